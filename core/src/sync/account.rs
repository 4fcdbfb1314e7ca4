//! Signing in and out on the server.

use super::control::SyncControl;
use super::http::{base, call, Me, ServerSession};
use crate::error::{Error, Result};
use crate::store::{CaseStore, UserContext};

impl CaseStore {
    /// Signs in on the server: registers this device and the actor it writes with, and
    /// signs the user in on this store. Returns the session (keep the token in the
    /// platform keystore).
    pub fn login(
        &self,
        server_url: &str,
        username: &str,
        password: &str,
        device_name: &str,
    ) -> Result<ServerSession> {
        self.login_with(
            server_url,
            username,
            password,
            device_name,
            &SyncControl::default(),
        )
    }

    /// [`CaseStore::login`], cancellable through `control` until the user is signed in on
    /// this store. A request already sent is not interrupted (it ends within the client's
    /// timeout); a login cancelled before the sign-in ends the session the server opened
    /// (best effort) and leaves this store as it was, returning [`Error::Cancelled`].
    pub fn login_with(
        &self,
        server_url: &str,
        username: &str,
        password: &str,
        device_name: &str,
        control: &SyncControl,
    ) -> Result<ServerSession> {
        control.check()?;
        let base = base(server_url);
        let known_device = self
            .user()
            .map(|u| u.device_id)
            .filter(|d| d.starts_with("d-"));
        let login = |actor: String, device: Option<String>| -> Result<ServerSession> {
            let mut body = serde_json::json!({
                "username": username, "password": password, "device_name": device_name, "actor_id": actor,
            });
            if let Some(d) = device {
                body["device_id"] = serde_json::json!(d);
            }
            call(self, &format!("{base}/v1/login"), None, Some(body))
        };
        // Until the sign-in below, a cancellation leaves nothing behind: the session the
        // server opened is ended, and a store nobody is signed in on takes a new actor (the
        // server bound the one it sent to a device this store does not keep).
        let abandon = |token: &str| -> Error {
            let _ = self.end_session(&base, token);
            if let Err(e) = self.renew_unused_actor() {
                return e;
            }
            Error::Cancelled
        };
        let mut session = login(self.actor_id().to_hex_string(), known_device)?;
        if control.is_cancelled() {
            return Err(abandon(&session.token));
        }
        let me: Me = call(self, &format!("{base}/v1/me"), Some(&session.token), None)?;
        if control.is_cancelled() {
            return Err(abandon(&session.token));
        }
        let before = self.actor_id();
        self.sign_in(UserContext {
            user_id: me.user_id,
            name: me.name,
            role: me.role,
            team: me.team,
            device_id: session.device_id.clone(),
        })?;
        if self.actor_id() != before {
            // Another user on this device writes with a new actor: register that one too.
            session = login(
                self.actor_id().to_hex_string(),
                Some(session.device_id.clone()),
            )?;
        }
        // A fresh login registers this device's actor anew: cases refused for an unknown
        // actor may sync now, so they are tried again.
        self.retry_all_refused()?;
        Ok(session)
    }

    /// Ends the session on the server and signs the user out of this store.
    pub fn logout(&self, server_url: &str, token: &str) -> Result<()> {
        self.end_session(&base(server_url), token)?;
        self.sign_out()
    }

    fn end_session(&self, base: &str, token: &str) -> Result<()> {
        let _: serde_json::Value = call(
            self,
            &format!("{base}/v1/logout"),
            Some(token),
            Some(serde_json::json!({})),
        )?;
        Ok(())
    }
}
