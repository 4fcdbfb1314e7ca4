//! Who uses this device: the signed-in user (sealed in the store, so the app reopens
//! signed in), the device's id, and the Automerge actor its changes are written with (a
//! new one for each new user, so every change stays attributed to who made it).

use automerge::ActorId;
use serde::{Deserialize, Serialize};

use super::{put_meta, CaseStore, Inner};
use crate::case::Role;
use crate::crypto::RecordKind;
use crate::error::Result;
use crate::ids::random_bytes;

/// The signed-in user, kept sealed in the store so the app reopens signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserContext {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    /// The user's team, as the server said at login (`None` in a store signed in before
    /// the store kept it, or for a user of no team).
    #[serde(default)]
    pub team: Option<String>,
    /// The device id the server registered at login (a local id before the first login).
    pub device_id: String,
}

impl CaseStore {
    /// This device's id (the server's, once signed in; a local random id before).
    pub fn device_id(&self) -> String {
        let g = self.lock();
        g.user
            .as_ref()
            .map(|u| u.device_id.clone())
            .unwrap_or_else(|| g.device_id.clone())
    }

    /// The Automerge actor this device writes with.
    pub fn actor_id(&self) -> ActorId {
        self.lock().actor.clone()
    }

    /// The signed-in user, if any.
    pub fn user(&self) -> Option<UserContext> {
        self.lock().user.clone()
    }

    /// Signs a user in on this device. A different user than before gets a new actor, so
    /// that every change stays attributed to the person who made it.
    pub fn sign_in(&self, user: UserContext) -> Result<()> {
        let mut g = self.lock();
        let changed = g.user.as_ref().is_some_and(|u| u.user_id != user.user_id);
        if changed {
            g.rotate_actor()?;
        }
        let sealed = g
            .meta
            .seal(RecordKind::Meta, b"user", &serde_json::to_vec(&user)?);
        put_meta(&g.conn, "user", &sealed)?;
        g.user = Some(user);
        Ok(())
    }

    /// When nobody is signed in: takes a new actor, so that the next login does not offer
    /// one the server bound to a device this store never learnt (a login cancelled after
    /// the server answered). Nobody signed in has written with the old one since it was
    /// taken (edits need a user).
    pub(crate) fn renew_unused_actor(&self) -> Result<()> {
        let mut g = self.lock();
        if g.user.is_none() {
            g.rotate_actor()?;
        }
        Ok(())
    }

    /// Forgets the signed-in user (the cases stay; the next user gets a new actor).
    pub fn sign_out(&self) -> Result<()> {
        let mut g = self.lock();
        g.conn.execute("DELETE FROM meta WHERE name = 'user'", [])?;
        g.rotate_actor()?;
        g.user = None;
        g.cache.clear();
        Ok(())
    }
}

impl Inner {
    /// A new actor for the next user of this device, persisted before it is used.
    fn rotate_actor(&mut self) -> Result<()> {
        let mut actor = [0u8; 16];
        random_bytes(&mut actor);
        put_meta(
            &self.conn,
            "actor",
            &self.meta.seal(RecordKind::Meta, b"actor", &actor),
        )?;
        self.actor = ActorId::from(actor.to_vec());
        let actor = self.actor.clone();
        for c in self.cache.values_mut() {
            c.doc.set_actor(actor.clone());
        }
        Ok(())
    }
}
