//! Links through which a partner organisation answers one referral without an account
//! (issue 16, `docs/adr/0006-*`), written once over the rows each storage reads and writes
//! ([`LinkRows`]).
//!
//! A link is a bearer secret: 32 random bytes shown once; the storage keeps its SHA-256
//! only. It names one referral of one case, the partner's language, and the login-less
//! user its answers are written as (`partner-<link id>`, disabled, with a password nobody
//! knows). It expires, and can be revoked; a link that has expired or was revoked is
//! looked up like one that never existed.

use fieldcase_core::{CaseId, Role};

use super::accounts::AccountRows;
use super::accounts::{NewUserRow, StorageError, UserInsert};
use crate::auth;
use crate::error::{AppError, AppResult};

/// The prefix of the usernames of partners answering through a link: no account may take
/// it (`check::new_user`).
pub const PARTNER_PREFIX: &str = "partner-";

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralLink {
    pub id: String,
    pub case_id: CaseId,
    pub referral_id: String,
    /// The user id the partner's answers are written as.
    pub partner_user: String,
    /// The language of the partner's page (a console locale code).
    pub language: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

impl ReferralLink {
    /// Whether the link still opens at `now`.
    pub fn is_open(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// The rows each storage keeps.
pub trait LinkRows {
    fn insert_link_row(&self, link: &ReferralLink, token_hash: &[u8]) -> Result<(), StorageError>;
    fn link_row_by_hash(&self, token_hash: &[u8]) -> Result<Option<ReferralLink>, StorageError>;
    fn link_rows_of_case(&self, case: &[u8]) -> Result<Vec<ReferralLink>, StorageError>;
    /// Marks the link revoked unless it already was; `false` when there is no such open
    /// link.
    fn revoke_link_row(&self, id: &str, by: &str, now: i64) -> Result<bool, StorageError>;
}

/// What a new link is made for.
#[derive(Debug, Clone)]
pub struct NewLink<'a> {
    pub case_id: CaseId,
    pub referral_id: &'a str,
    /// The case's team (the partner's user belongs to it, never assigned).
    pub team: &'a str,
    /// The organisation's name, shown as the partner's name in the record.
    pub organisation: &'a str,
    pub language: &'a str,
    pub created_by: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Makes a link and its partner user; answers the link and its token (shown once).
pub fn create_link<R: LinkRows + AccountRows + super::users::UserRows>(
    rows: &R,
    new: &NewLink<'_>,
) -> AppResult<(ReferralLink, String)> {
    let (token, hash) = auth::new_token();
    let id = auth::new_id("l-");
    let username = format!("{PARTNER_PREFIX}{id}");
    let partner = auth::new_id("u-");
    // A password nobody knows, and the user disabled: it never signs in.
    let (secret, _) = auth::new_token();
    let password = auth::hash_password(&secret, 1);
    let organisation = match new.organisation.trim() {
        "" => "partner",
        name => name,
    };
    let inserted = rows.insert_user(&NewUserRow {
        id: &partner,
        username: &username,
        display_name: organisation,
        role: Role::Worker,
        team: Some(new.team),
        hash: &password,
        now: new.now,
    })?;
    match inserted {
        UserInsert::Inserted(_) => {}
        _ => {
            return Err(AppError::invalid(
                crate::error::Problem::NoSuchTeam,
                "the case's team does not exist",
            )
            .with("team", new.team))
        }
    }
    super::users::disable_user(rows, &username)?;
    let link = ReferralLink {
        id,
        case_id: new.case_id,
        referral_id: new.referral_id.to_string(),
        partner_user: partner,
        language: new.language.to_string(),
        created_by: new.created_by.to_string(),
        created_at: new.now,
        expires_at: new.expires_at,
        revoked_at: None,
        revoked_by: None,
    };
    rows.insert_link_row(&link, &hash)?;
    Ok((link, token))
}

/// The open link `token` names at `now`; `None` for an unknown, expired or revoked one
/// (the same answer for all three).
pub fn open_link<R: LinkRows + ?Sized>(
    rows: &R,
    token: &str,
    now: i64,
) -> AppResult<Option<ReferralLink>> {
    Ok(rows
        .link_row_by_hash(&auth::token_hash(token))?
        .filter(|l| l.is_open(now)))
}
