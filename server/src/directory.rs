//! The partner directory on the server (issue 16): importing and exporting HSDS 3.0 data
//! packages ([`fieldcase_core::directory::hsds`]), an admin's edit of one service's status
//! and phones, and the snapshot phones fetch (`GET /v1/directory`, in [`crate::api`]).
//!
//! Every write (the command line's import, the console's edit) goes through
//! [`crate::Db::put_directory`]: the directory's check, `directory.max_bytes`, and the
//! version it replaces. Each is recorded in the admin log.

use std::path::Path;

use fieldcase_core::directory::hsds::{self, ImportReport, Package, Refused};
use fieldcase_core::directory::{Directory, DirectoryIndex, Language, Phone, ServiceStatus};

use crate::db::AdminEntry;
use crate::error::{AppError, AppResult};
use crate::{Config, Db, Metrics};

/// The stored directory indexed for searching, kept while its version is the stored one
/// (the console's search; a version check is one small read).
#[derive(Debug, Default)]
pub struct IndexCache(std::sync::Mutex<Option<(i64, std::sync::Arc<DirectoryIndex>)>>);

impl IndexCache {
    /// The stored version and its index (an empty one at version 0).
    pub fn get(&self, db: &dyn Db) -> AppResult<(i64, std::sync::Arc<DirectoryIndex>)> {
        let version = db.directory_version()?;
        if let Some((v, ix)) = &*self.0.lock().unwrap_or_else(|p| p.into_inner()) {
            if *v == version {
                return Ok((*v, ix.clone()));
            }
        }
        let (directory, version) = current(db)?;
        let ix = std::sync::Arc::new(DirectoryIndex::new(directory));
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((version, ix.clone()));
        Ok((version, ix))
    }
}

/// What an import did (or, refused or a dry run, would have done).
#[derive(Debug)]
pub struct ImportOutcome {
    pub report: ImportReport,
    /// The version stored; `None` when nothing was stored.
    pub version: Option<i64>,
}

/// The stored directory (empty when none was stored) and its version (0 then).
pub fn current(db: &dyn Db) -> AppResult<(Directory, i64)> {
    match db.directory()? {
        Some(stored) => Ok((stored.directory()?, stored.version)),
        None => Ok((Directory::default(), 0)),
    }
}

/// Reads a package from `path` (a folder with `datapackage.json`, or one `.json` file of
/// the JSON form), no file larger than `directory.max_import_bytes`.
fn read(path: &Path, config: &Config) -> Result<Package, Vec<Refused>> {
    let max = config.directory_max_import_bytes;
    if path.is_dir() {
        return Package::read_dir(path, max);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let refuse = |reason: String| {
        vec![Refused {
            file: name.clone(),
            line: 0,
            reason,
        }]
    };
    let meta =
        std::fs::metadata(path).map_err(|e| refuse(format!("cannot be read ({})", e.kind())))?;
    if meta.len() > max {
        return Err(refuse(format!(
            "larger than {max} bytes (directory.max_import_bytes)"
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| refuse(format!("cannot be read ({})", e.kind())))?;
    let mut package = Package::default();
    package.files.insert("datapackage.json".into(), bytes);
    Ok(package)
}

/// Imports the package at `path` in place of the stored directory, all or nothing, as
/// `by` (a user id, or the command line's). With `dry_run`, only reports.
pub fn import(
    db: &dyn Db,
    config: &Config,
    metrics: Option<&Metrics>,
    path: &Path,
    by: &str,
    dry_run: bool,
) -> AppResult<ImportOutcome> {
    let refused = |metrics: Option<&Metrics>, refused: Vec<Refused>| {
        if let Some(m) = metrics {
            Metrics::inc(&m.directory_refused);
        }
        ImportOutcome {
            report: ImportReport {
                refused,
                ..ImportReport::default()
            },
            version: None,
        }
    };
    let package = match read(path, config) {
        Ok(p) => p,
        Err(r) => return Ok(refused(metrics, r)),
    };
    let (old, version) = current(db)?;
    let imported = hsds::import(&package, &old);
    let Some(new) = imported.directory else {
        if let Some(m) = metrics {
            Metrics::inc(&m.directory_refused);
        }
        return Ok(ImportOutcome {
            report: imported.report,
            version: None,
        });
    };
    if dry_run {
        return Ok(ImportOutcome {
            report: imported.report,
            version: None,
        });
    }
    let now = chrono::Utc::now().timestamp_millis();
    let stored = match db.put_directory(&new, version, by, now, config.directory_max_bytes) {
        Ok(v) => v,
        Err(e) if e.is_bad_input() => {
            let reason = e.to_string();
            return Ok(refused(
                metrics,
                vec![Refused {
                    file: "datapackage.json".into(),
                    line: 0,
                    reason,
                }],
            ));
        }
        Err(e) => return Err(e),
    };
    db.log_admin(&AdminEntry {
        at: now,
        by: by.into(),
        action: "import directory".into(),
        target: format!("version {stored}: {}", imported.report.summary()),
    })?;
    Ok(ImportOutcome {
        report: imported.report,
        version: Some(stored),
    })
}

/// Writes the stored directory to `path`: a folder of CSV files with `datapackage.json`,
/// or (with `json`) one JSON file. Answers the version written.
pub fn export(db: &dyn Db, path: &Path, json: bool) -> AppResult<i64> {
    let (directory, version) = current(db)?;
    let written = if json {
        std::fs::write(path, hsds::export_json(&directory))
    } else {
        hsds::export(&directory).write_dir(path)
    };
    written.map_err(|e| AppError::BadRequest(format!("cannot write {}: {e}", path.display())))?;
    Ok(version)
}

/// An admin's edit of one service: its status and its phone numbers (one per line; the
/// numbers kept keep their ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEdit {
    pub status: ServiceStatus,
    pub phones: Vec<String>,
    /// The service's name and description (HSDS `service.name`, `description`).
    pub name: String,
    pub description: Option<String>,
    /// Who it is for: ages in years, genders served (codes), areas, in words.
    pub minimum_age: Option<u32>,
    pub maximum_age: Option<u32>,
    pub genders: Vec<String>,
    pub areas: Vec<String>,
    pub eligibility: Option<String>,
    /// The languages it is given in (ISO 639 codes).
    pub languages: Vec<String>,
}

/// Applies `edit` to service `service_id` of the directory at `expected` (the version the
/// admin saw): a conflict when it changed meanwhile. Recorded in the admin log.
pub fn edit_service(
    db: &dyn Db,
    config: &Config,
    metrics: Option<&Metrics>,
    service_id: &str,
    expected: i64,
    edit: &ServiceEdit,
    by: &str,
) -> AppResult<i64> {
    let (mut directory, version) = current(db)?;
    if version != expected {
        return Err(crate::db::directory::directory_changed());
    }
    let Some(service) = directory.services.iter_mut().find(|s| s.id == service_id) else {
        return Err(AppError::NotFound);
    };
    service.status = edit.status;
    service.name = edit.name.trim().to_owned();
    service.description = edit.description.clone().filter(|d| !d.trim().is_empty());
    service.eligibility.minimum_age = edit.minimum_age;
    service.eligibility.maximum_age = edit.maximum_age;
    service.eligibility.genders = edit.genders.clone();
    service.eligibility.areas = edit.areas.clone();
    service.eligibility.description = edit.eligibility.clone().filter(|d| !d.trim().is_empty());
    let names: std::collections::BTreeMap<String, Option<String>> = service
        .languages
        .iter()
        .map(|l| (l.code.clone(), l.name.clone()))
        .collect();
    service.languages = edit
        .languages
        .iter()
        .map(|c| Language {
            code: c.clone(),
            name: names.get(c).cloned().flatten(),
        })
        .collect();
    let old = std::mem::take(&mut service.phones);
    for (i, number) in edit
        .phones
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .enumerate()
    {
        let kept = old.iter().find(|p| p.number == number);
        service.phones.push(match kept {
            Some(p) => p.clone(),
            None => Phone {
                id: format!("{service_id}-phone-{version}-{i}"),
                number: number.to_owned(),
                ..Phone::default()
            },
        });
    }
    let now = chrono::Utc::now().timestamp_millis();
    let stored = db
        .put_directory(&directory, version, by, now, config.directory_max_bytes)
        .inspect_err(|e| {
            if let (Some(m), true) = (metrics, e.is_bad_input()) {
                Metrics::inc(&m.directory_refused);
            }
        })?;
    db.log_admin(&AdminEntry {
        at: now,
        by: by.into(),
        action: "edit directory service".into(),
        target: format!(
            "{service_id} (version {stored}): status {}, {} phones",
            edit.status,
            edit.phones.len()
        ),
    })?;
    Ok(stored)
}
