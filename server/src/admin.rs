//! Administration shared by the REST API and the command line: who a case may be assigned
//! to, and assignment written straight to the storage by the CLI (another process than the
//! server, so it goes through the storage's compare-and-swap, never around it), and the
//! erasure of a case (its data key destroyed, `db::erasure`).

use automerge::ActorId;
use fieldcase_core::{Author, CaseDoc, CaseId, RefusalKind, Role};

use crate::db::{CaseAccess, CaseWrite, Db, Stored};
use crate::error::{AppError, AppResult, Problem};

/// The user ids of `usernames`, each an active worker or supervisor of `team`. The
/// refusal ([`RefusalKind::Assignment`], the admission check's rule) names the position in
/// the list, not the input.
pub fn assignees(db: &dyn Db, team: &str, usernames: &[String]) -> AppResult<Vec<String>> {
    if usernames.is_empty() {
        return Err(AppError::refused(
            RefusalKind::Assignment,
            "a case needs at least one assigned worker",
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
                return Err(AppError::refused(
                    RefusalKind::Assignment,
                    format!(
                    "user {} of the list is not an active worker or supervisor of the case's team",
                    i + 1
                ),
                ))
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

/// Who the command line writes as: an administrator on the server's own console.
pub const CLI_AUTHOR_ID: &str = "admin-cli";

/// Assigns a case from the command line, while a server may be running on the same file:
/// the change is appended only if the stored heads are still those it was made on;
/// otherwise the case is read again and the assignment made again, as many times as the
/// hub's writes ([`crate::hub::WRITE_ATTEMPTS`]). This is another process than the server,
/// with no hot documents and no hub: the only write that does not go through
/// [`crate::hub::Hub::write`] (the server notices it through the storage's external
/// version).
pub fn assign_case(
    db: &dyn Db,
    id: CaseId,
    usernames: &[String],
    case_manager: Option<&str>,
) -> AppResult<CaseAccess> {
    for _ in 0..crate::hub::WRITE_ATTEMPTS {
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
        let access = CaseAccess::read(id, am)?;
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
    Err(AppError::Conflict(crate::hub::KEPT_CHANGING.into()))
}

/// Hands the whole caseload of `leaver` (someone leaving the team or the agency) over to
/// `to`, active workers or supervisors of the same team, one case after another in turn:
/// the leaver is unassigned, the next colleague assigned (and made case manager where the
/// leaver was). Each case is changed through the hub like any assignment, so phones
/// syncing it are told at once and the leaver's phones hand in their last changes and drop
/// it at their next sync. `by` is an admin or a supervisor of the leaver's team; if any of
/// the cases is hidden from `by` (restricted), nothing is changed. Returns the number of
/// cases handed over.
pub async fn hand_over(
    state: &crate::AppState,
    by: &crate::db::User,
    leaver: &str,
    to: &[String],
) -> AppResult<usize> {
    let (who, name, names) = (by.clone(), leaver.to_string(), to.to_vec());
    let (leaver, colleagues, cases) = crate::db::blocking(&state.db, move |db| {
        let leaver = db.user_by_username(&name)?.ok_or(AppError::NotFound)?;
        let manages = match who.role {
            Role::Admin => true,
            Role::Supervisor => leaver.team.is_some() && leaver.team == who.team,
            Role::Worker => false,
        };
        if !manages {
            return Err(AppError::NotFound);
        }
        let team = leaver.team.clone().ok_or_else(|| {
            AppError::invalid(
                Problem::HandoverFromAdmin,
                "an administrator has no caseload to hand over",
            )
        })?;
        if names.contains(&leaver.username) {
            return Err(AppError::invalid(
                Problem::HandoverToSelf,
                "a caseload is handed over to others than its worker",
            ));
        }
        let colleagues = assignees(db, &team, &names)?;
        let cases = db.cases_of(&leaver.id)?;
        let hidden = cases
            .iter()
            .filter_map(|id| db.case_access(id).transpose())
            .filter(|a| !a.as_ref().is_ok_and(|a| a.visible_to(&who)))
            .count();
        if hidden > 0 {
            return Err(AppError::invalid(
                Problem::HandoverRestricted,
                format!(
                    "{hidden} of these cases are restricted and hidden from you; a supervisor \
                     of the team hands them over"
                ),
            )
            .with("count", hidden.to_string()));
        }
        Ok((leaver, colleagues, cases))
    })
    .await?;
    for (i, id) in cases.iter().enumerate() {
        let next = colleagues[i % colleagues.len()].clone();
        let gone = leaver.id.clone();
        let done = state
            .hub
            .edit(state, *id, by, move |doc, author, now| {
                let file = doc.read()?;
                let mut assigned: Vec<String> =
                    file.assigned.into_iter().filter(|u| *u != gone).collect();
                if !assigned.contains(&next) {
                    assigned.push(next.clone());
                }
                let manager =
                    (file.case_manager.as_deref() == Some(gone.as_str())).then_some(next.as_str());
                doc.assign(author, now, &assigned, manager)
            })
            .await;
        if let Err(e) = done {
            // The cases handed over so far stay handed over; the log says how far it went.
            let target = format!(
                "{} ({i} of {} cases; stopped)",
                leaver.username,
                cases.len()
            );
            crate::api::log_admin(state, &by.id, "hand over caseload", &target).await?;
            return Err(e);
        }
    }
    tracing::info!(by = %by.id, leaver = %leaver.id, count = cases.len(), "caseload handed over");
    crate::api::log_admin(state, &by.id, "hand over caseload", &leaver.username).await?;
    Ok(cases.len())
}

/// Gives a user another role or team. A worker or supervisor who still has cases keeps
/// their team until the cases are handed over ([`hand_over`]); the last active admin stays
/// an admin. Refusals change nothing.
pub fn move_user(
    db: &dyn Db,
    username: &str,
    role: Role,
    team: Option<&str>,
) -> AppResult<crate::db::User> {
    let user = db.user_by_username(username)?.ok_or(AppError::NotFound)?;
    let team = team.filter(|_| role != Role::Admin);
    if user.team.as_deref() != team || (role == Role::Admin) != (user.role == Role::Admin) {
        let cases = db.cases_of(&user.id)?.len();
        if cases > 0 {
            return Err(AppError::invalid(
                Problem::CasesAssigned,
                format!("{cases} cases are assigned to this user; hand them over first"),
            )
            .with("count", cases.to_string()));
        }
    }
    if user.role == Role::Admin && role != Role::Admin {
        let admins = db
            .users()?
            .iter()
            .filter(|u| u.role == Role::Admin && !u.disabled)
            .count();
        if admins <= 1 {
            return Err(AppError::invalid(
                Problem::LastAdmin,
                "this is the last active administrator",
            ));
        }
    }
    db.set_role_team(username, role, team)
}

/// Revokes a phone (never the server's own console device): its sessions end and its next
/// contact wipes it. The REST API, the console and the command line call this; who may is
/// theirs to check. An unknown device is [`AppError::NotFound`].
pub fn revoke_device(db: &dyn Db, device_id: &str) -> AppResult<crate::db::Device> {
    let device = db
        .device(device_id)?
        .filter(|d| d.name != crate::db::SERVER_DEVICE_NAME)
        .ok_or(AppError::NotFound)?;
    db.revoke_device(&device.id)?;
    Ok(device)
}

/// Erases a case for the command line (another process than the server: a server running
/// on the database finds the case gone at its next look, `Hub::freshen`), and records it
/// in the administrative log as the command line's. The tombstone is answered.
pub fn erase_case(
    db: &dyn Db,
    id: &CaseId,
    by: &str,
    reason: &str,
) -> AppResult<crate::db::erasure::Tombstone> {
    let now = chrono::Utc::now().timestamp_millis();
    let tombstone = db.erase_case(id, by, reason, now)?;
    db.log_admin(&crate::db::AdminEntry {
        at: now,
        by: by.to_string(),
        action: "erase case".into(),
        target: id.to_string(),
    })?;
    Ok(tombstone)
}

/// Erases a case inside the server (the console): as [`erase_case`], and the server's
/// document of it in memory is emptied and dropped.
pub async fn erase_in_server(
    state: &crate::AppState,
    id: CaseId,
    by: &str,
    reason: &str,
) -> AppResult<crate::db::erasure::Tombstone> {
    let (by_, reason_) = (by.to_string(), reason.to_string());
    let tombstone =
        crate::db::blocking(&state.db, move |db| erase_case(db, &id, &by_, &reason_)).await?;
    state.hub.forget(&id).await;
    state.console.forget(&id);
    state.matches.forget(&id);
    crate::Metrics::inc(&state.metrics.cases_erased);
    tracing::info!(case = %id, by, "case erased");
    Ok(tombstone)
}
