//! A link through which a partner organisation answers a referral (issue 16,
//! `docs/adr/0006-*`), made by the server for a phone that is online: the phone sends it
//! to the partner by its own channel (a message). The link is shown once; the server keeps
//! only its hash.

use super::http::{base, call};
use crate::error::{Error, Result};
use crate::store::CaseStore;

/// A link the server made for one referral.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PartnerLink {
    /// The link's id (to name it when revoking it on the console).
    pub id: String,
    /// The whole address to send the partner.
    pub url: String,
    /// When it stops opening (milliseconds since 1970).
    pub expires_at: i64,
}

impl CaseStore {
    /// Asks the server for a link through which the partner answers `referral_id` of
    /// `case_id`, its page in `language` (one of the console's: en, fa, ru, th, uk, vi).
    /// Needs the network; the referral must have reached the server (sync first).
    pub fn make_partner_link(
        &self,
        server_url: &str,
        token: &str,
        case_id: &crate::CaseId,
        referral_id: &str,
        language: &str,
    ) -> Result<PartnerLink> {
        #[derive(serde::Deserialize)]
        struct Made {
            id: String,
            path: String,
            expires_at: i64,
        }
        if referral_id.is_empty()
            || !referral_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::invalid("referral_id", "not a referral's id"));
        }
        let base = base(server_url);
        let made: Made = call(
            self,
            &format!("{base}/v1/cases/{case_id}/referrals/{referral_id}/links"),
            Some(token),
            Some(serde_json::json!({ "language": language })),
        )?;
        Ok(PartnerLink {
            id: made.id,
            url: format!("{base}{}", made.path),
            expires_at: made.expires_at,
        })
    }
}
