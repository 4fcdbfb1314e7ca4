//! Administration shared by the REST API and the command line: who a case may be assigned
//! to, and assignment written straight to the storage by the CLI (another process than the
//! server, so it goes through the storage's compare-and-swap, never around it).

use automerge::ActorId;
use fieldcase_core::{Author, CaseDoc, CaseId, Role};

use crate::db::{CaseAccess, CaseWrite, Db, Stored};
use crate::error::{AppError, AppResult};

/// The user ids of `usernames`, each an active worker or supervisor of `team`. The error
/// names the position in the list, not the input.
pub fn assignees(db: &dyn Db, team: &str, usernames: &[String]) -> AppResult<Vec<String>> {
    if usernames.is_empty() {
        return Err(AppError::BadRequest(
            "a case needs at least one assigned worker".into(),
        ));
    }
    let mut ids = Vec::with_capacity(usernames.len());
    for (i, name) in usernames.iter().enumerate() {
        let user = db.user_by_username(name)?;
        match user {
            Some(u) if !u.disabled && u.role != Role::Admin && u.team.as_deref() == Some(team) => {
                if !ids.contains(&u.id) {
                    ids.push(u.id);
                }
            }
            _ => {
                return Err(AppError::BadRequest(format!(
                    "user {} of the list is not an active worker or supervisor of the case's team",
                    i + 1
                )))
            }
        }
    }
    Ok(ids)
}

/// Assigns or transfers a case on behalf of `user` (a supervisor of the case's team or an
/// admin), through the hub like any other change: phones syncing the case see it at once,
/// and the phones of workers gained or lost get or drop the case at their next sync. The
/// REST API and the console both call this. Returns the assigned user ids.
pub async fn assign_via_hub(
    state: &crate::AppState,
    id: CaseId,
    user: &crate::db::User,
    usernames: &[String],
    case_manager: Option<&str>,
) -> AppResult<Vec<String>> {
    let (who, names, manager) = (
        user.clone(),
        usernames.to_vec(),
        case_manager.map(str::to_string),
    );
    let (ids, manager) = crate::db::blocking(&state.db, move |db| {
        let access = db.case_access(&id)?.ok_or(AppError::NotFound)?;
        if !access.visible_to(&who) {
            return Err(AppError::NotFound);
        }
        if !who.role.has_authority() {
            return Err(AppError::Forbidden);
        }
        let ids = assignees(db, &access.team, &names)?;
        let manager = match manager {
            Some(m) => Some(assignees(db, &access.team, &[m])?.remove(0)),
            None => None,
        };
        Ok((ids, manager))
    })
    .await?;
    let assigned = ids.clone();
    state
        .hub
        .edit(state, id, user, move |doc, author, now| {
            doc.assign(author, now, &assigned, manager.as_deref())
        })
        .await?;
    tracing::info!(case = %id, by = %user.id, "case assigned");
    crate::api::log_admin(state, &user.id, "assign case", &id.to_string()).await?;
    Ok(ids)
}

/// The access facts of a stored, valid document.
pub fn access_of(id: CaseId, doc: &automerge::Automerge) -> AppResult<CaseAccess> {
    let (file, _) = CaseDoc::outline_of(doc)?;
    Ok(CaseAccess {
        id,
        team: file.team.clone().unwrap_or_default(),
        restricted: CaseDoc::restricted_in(doc),
        assigned: file.assigned.clone(),
    })
}

/// Who the command line writes as: an administrator on the server's own console.
pub const CLI_AUTHOR_ID: &str = "admin-cli";

/// Assigns a case from the command line, while a server may be running on the same file:
/// the change is appended only if the stored heads are still those it was made on;
/// otherwise the case is read again and the assignment made again.
pub fn assign_case(
    db: &dyn Db,
    id: CaseId,
    usernames: &[String],
    case_manager: Option<&str>,
) -> AppResult<CaseAccess> {
    for _ in 0..5 {
        let bytes = db.case_document(&id)?.ok_or(AppError::NotFound)?;
        let mut doc = CaseDoc::load(&bytes)?;
        let before = doc.heads();
        let team = doc.read()?.team.unwrap_or_default();
        let ids = assignees(db, &team, usernames)?;
        let manager = match case_manager {
            Some(m) => Some(assignees(db, &team, &[m.to_string()])?.remove(0)),
            None => None,
        };
        doc.set_actor(ActorId::random());
        let author = Author::new(
            CLI_AUTHOR_ID,
            "Administrator (command line)",
            Role::Admin,
            "cli",
        );
        let now = chrono::Utc::now().timestamp_millis();
        doc.assign(&author, now, &ids, manager.as_deref())?;
        let am = doc.automerge();
        fieldcase_core::schema::validate(am).map_err(|v| {
            AppError::Internal(format!("assignment broke the schema at {}", v.path))
        })?;
        let access = access_of(id, am)?;
        let changes = am.save_after(&before);
        match db.store_case(
            &access,
            CaseWrite::Changes(&changes),
            &am.get_heads(),
            Some(&before),
            now,
        )? {
            Stored::Stale => continue,
            Stored::Written { .. } => return Ok(access),
        }
    }
    Err(AppError::Conflict(
        "the case kept changing; try again".into(),
    ))
}
