//! The `fieldcase-server` command: serve, and administer users and teams on the same
//! database (a SQLite file, or a PostgreSQL database several instances share).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use fieldcase_core::Role;
use fieldcase_server::db::{self, AnyDb};
use fieldcase_server::settings::{FileSettings, LogFormat};
use fieldcase_server::{demo, AppState, Config, Db};

/// The server's allocator: jemalloc, with its background threads returning freed pages to
/// the system (after about ten seconds unused). A day's syncing brings thousands of cases
/// through memory at once and the cache evicts them afterwards; the system's allocator
/// kept that memory resident (issue 20: about 360 MiB at rest after 100 phones pushed
/// 5,600 cases among 100,000, with 20 MiB of cases kept).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser, Debug)]
#[command(
    name = "fieldcase-server",
    version,
    about = "fieldcase sync server and administration"
)]
struct Cli {
    /// The database: a SQLite file, or a PostgreSQL URL (postgres://user:password@host/db)
    /// that several server instances may share [default: fieldcase.sqlite].
    #[arg(long, env = "FIELDCASE_DB", global = true)]
    db: Option<PathBuf>,
    /// A TOML configuration file; flags and environment variables win over it.
    #[arg(long, env = "FIELDCASE_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The master key file that wraps every case's data key (64 hex digits; created with
    /// owner-only permissions on first start) [default: `<db>.key` beside a SQLite file,
    /// `fieldcase.key` for PostgreSQL]. The environment variable FIELDCASE_MASTER_KEY (the
    /// key itself, in hex) wins over any file. Keep it apart from the backups: losing it
    /// loses every case.
    #[arg(long, env = "FIELDCASE_MASTER_KEY_FILE", global = true)]
    master_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "FIELDCASE_LISTEN")]
        listen: Option<SocketAddr>,
        /// Seed a demo team and caseload, and print fresh demo passwords.
        #[arg(long)]
        demo: bool,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, env = "FIELDCASE_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM).
        #[arg(long, env = "FIELDCASE_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Teams.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// The agency's areas (communes, districts) the client's area is chosen from.
    Area {
        #[command(subcommand)]
        command: AreaCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Write a consistent copy of the database to PATH while the server may be serving
    /// (restore: stop the server, put the copy in place of the database file, start it).
    /// SQLite only: back a PostgreSQL database up with pg_dump.
    Backup { path: PathBuf },
    /// Who read, printed or was sent which case, on which device, newest first (ids and
    /// usernames only); with --verify, check that no entry was changed or removed (each is
    /// chained to the one before by a hash): fails when one was.
    Audit {
        /// Only this case.
        #[arg(long)]
        case: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Check the whole trail's chain instead of listing it.
        #[arg(long)]
        verify: bool,
    },
    /// Cases.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
    /// Put a backup in place of the SQLite database, after checking it (integrity, schema
    /// version, that it opens and its cases load); refused while a server runs on the
    /// database. The database it replaces is kept beside it. A backup holds no data keys:
    /// they are joined to it from the database it replaces, or from a keyring copy (--keys);
    /// cases erased since the backup stay erased.
    Restore {
        path: PathBuf,
        /// The keyring copy (`key export`) to take the data keys from, when the database
        /// is lost [default: the database being replaced].
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// Check the database and the configuration, and say what is wrong in words.
    Check,
    /// Devices (phones).
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Administrative actions (who, what, on what, when), newest first.
    Log {
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// The master key (encryption at rest).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// The partner directory, as an HSDS 3.0 data package.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
}

#[derive(Subcommand, Debug)]
enum DirectoryCommand {
    /// Replace the directory with the HSDS 3.0 data package at PATH: a folder holding
    /// datapackage.json and the CSV files it names, or one JSON file (the package with
    /// its rows inline). All or nothing: prints what it adds, changes and removes, or
    /// every refusal (file, line and reason) and changes nothing. Safe while serving;
    /// phones get the new directory at their next sync.
    Import {
        path: PathBuf,
        /// Check and report only; store nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the directory as an HSDS 3.0 data package into the folder PATH (created if
    /// missing), or with --json as one JSON file.
    Export {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Rewrap every case's data key under a new master key, written to the key file; the
    /// old key file is kept beside it (`<file>.before-rotate-<time>`) for the backups made
    /// before, to be destroyed when they are. The sealed cases are not re-encrypted.
    /// Servers running on the database go on serving: they read the new key from the key
    /// file when the old one no longer opens a case (every instance must read the same
    /// key file).
    Rotate,
    /// Write the keyring to PATH, replacing the copy there: every case's data key (wrapped by
    /// the master key) and the tombstones of erased cases. Backups hold no data keys; this
    /// copy restores them when the database itself is lost. Keep one copy, apart from the
    /// backups and from the master key, and write it again after every erasure: an older
    /// copy still opens the cases erased since. SQLite only.
    Export { path: PathBuf },
}

/// Where the master key comes from: FIELDCASE_MASTER_KEY, else the key file set, else the
/// default beside the database.
fn key_source(
    flag: Option<PathBuf>,
    settings: &FileSettings,
    db_path: &std::path::Path,
) -> db::keys::KeySource {
    if let Ok(hex) = std::env::var("FIELDCASE_MASTER_KEY") {
        return db::keys::KeySource::Hex(hex);
    }
    match flag.or_else(|| settings.master_key_file.clone()) {
        Some(path) => db::keys::KeySource::File(path),
        None => db::default_key_source(db_path),
    }
}

/// PostgreSQL's keys database (ADR 0007): FIELDCASE_KEYS_URL, else `[postgres] keys_url`,
/// else its default (the data database's name with `_keys`).
fn keys_url(settings: &FileSettings) -> Option<String> {
    std::env::var("FIELDCASE_KEYS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| settings.postgres.keys_url.clone())
}

/// `key rotate`: a new key file, every data key rewrapped under it, the old file kept.
fn rotate(opened: &AnyDb, keys: &db::keys::KeySource) -> Result<(), String> {
    let db::keys::KeySource::File(path) = keys else {
        return Err(
            "the master key comes from FIELDCASE_MASTER_KEY: rotate with a key file \
                    (--master-key-file), then move the new key where the environment gets it"
                .into(),
        );
    };
    // Servers running on the database go on: a server whose key no longer opens a case's
    // data key reads the key file again (or `<file>.new` until it is in place).
    let side = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let fresh = side(".new");
    let new_key = db::keys::create_key_file(&fresh)?;
    let n = opened
        .rotate_master_key(new_key)
        .map_err(|e| e.to_string())?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let kept = side(&format!(".before-rotate-{stamp}"));
    std::fs::rename(path, &kept).map_err(|e| {
        format!(
            "the database is under the new key in {}, but the old key file could not be set \
             aside: {e}; move {} to {} by hand",
            fresh.display(),
            fresh.display(),
            path.display()
        )
    })?;
    std::fs::rename(&fresh, path).map_err(|e| {
        format!(
            "the database is under the new key in {}; move it to {} by hand: {e}",
            fresh.display(),
            path.display()
        )
    })?;
    log_cli(
        opened.as_dyn(),
        "rotate master key",
        &format!("{n} data keys"),
    )?;
    println!(
        "{n} data keys rewrapped under the new master key in {}; the old key is kept in {} \
         for the backups made before now: destroy it once they are gone",
        path.display(),
        kept.display()
    );
    Ok(())
}

#[derive(Subcommand, Debug)]
enum DeviceCommand {
    /// Revoke a device (a lost phone): its sessions end, its next contact wipes it; the
    /// user carries on from another device.
    Revoke { device_id: String },
}

#[derive(Subcommand, Debug)]
enum CaseCommand {
    /// Assign (or transfer) a case to workers of its team; safe while the server runs.
    Assign {
        case_id: String,
        /// Usernames of the workers (or supervisors) of the case's team.
        #[arg(required = true, num_args = 1..)]
        usernames: Vec<String>,
        /// The case manager (a username), if it changes.
        #[arg(long)]
        case_manager: Option<String>,
    },
    /// List cases: id, team, restricted, assigned usernames (no client data).
    List,
    /// Erase a case for good: its data key is destroyed and everything stored of it
    /// deleted; a tombstone (id, team, when, by whom, why) stays. Phones that hold it
    /// remove it at their next sync. Safe while the server runs. Backups: see
    /// docs/operations.md ("Erasing a case").
    Erase {
        case_id: String,
        /// Why (kept in the tombstone; name no client).
        #[arg(long)]
        reason: String,
    },
    /// The tombstones of erased cases: id, team, when, by whom, why.
    Erased,
    /// Closed cases past their team's retention (`[retention]` in the configuration):
    /// those to be erased and those waiting for a decision. With --apply, erases the
    /// first (the server's own task does so every `retention.interval_minutes`).
    Retention {
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TeamCommand {
    /// Add a team.
    Add { name: String },
    /// List teams (name, then the label people know it by when it was renamed).
    List,
    /// Rename a team: LABEL is shown from now on; NAME stays its key (users, cases and the
    /// case documents on phones keep it, so nothing is rewritten).
    Rename { name: String, label: String },
}

#[derive(Subcommand, Debug)]
enum AreaCommand {
    /// Add an area, or rename the one with CODE (the key cases hold, which stays; codes
    /// are never removed). Bounded by `[areas]` in the configuration.
    Put { code: String, name: String },
    /// List areas (code, then name).
    List,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add a user. The password comes from FIELDCASE_PASSWORD or a prompt, never an argument.
    Add {
        username: String,
        /// worker, supervisor or admin.
        #[arg(long)]
        role: String,
        /// The user's team (required for workers and supervisors).
        #[arg(long)]
        team: Option<String>,
        /// Display name (defaults to the username).
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List users.
    List,
    /// Disable a user: sessions end, devices are told to wipe.
    Disable { username: String },
    /// Enable a disabled user again (they sign in anew; their old devices stay revoked).
    Enable { username: String },
    /// A user's devices: id, name, registered, last seen, open sessions, revoked.
    Devices { username: String },
}

/// `check`: the database and the configuration, in words; an error when anything is wrong.
fn check(
    db_path: &std::path::Path,
    postgres: bool,
    keys: &db::keys::KeySource,
    settings: &FileSettings,
) -> Result<(), String> {
    let mut problems = Vec::new();
    if let (Some(cert), Some(key)) = (&settings.tls_cert, &settings.tls_key) {
        match fieldcase_server::tls_config(cert, key) {
            Ok(_) => println!("ok: the TLS certificate and key fit together"),
            Err(e) => problems.push(e),
        }
    } else if settings.tls_cert.is_some() != settings.tls_key.is_some() {
        problems.push("tls_cert and tls_key go together: set both or neither".into());
    }
    if postgres {
        match db::open_apart(db_path, keys, keys_url(settings).as_deref()) {
            Ok(opened) => {
                let mut report = fieldcase_server::restore::Report::default();
                fieldcase_server::restore::check_cases(opened.as_dyn(), &mut report);
                println!("ok: the database answers");
                for f in &report.facts {
                    println!("ok: {f}");
                }
                problems.extend(report.problems);
            }
            Err(e) => problems.push(format!(
                "cannot open the database {}: {e}",
                db::describe(&db_path.to_string_lossy())
            )),
        }
    } else {
        let report = fieldcase_server::restore::check_file(db_path, keys);
        for f in &report.facts {
            println!("ok: {f}");
        }
        problems.extend(report.problems);
    }
    if problems.is_empty() {
        println!("everything checks");
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Records an action of the command line in the administrative log.
fn log_cli(db: &dyn Db, action: &str, target: &str) -> Result<(), String> {
    db.log_admin(&db::AdminEntry {
        at: chrono::Utc::now().timestamp_millis(),
        by: fieldcase_server::admin::CLI_AUTHOR_ID.into(),
        action: action.into(),
        target: target.into(),
    })
    .map_err(|e| e.to_string())
}

fn password() -> Result<String, String> {
    if let Ok(p) = std::env::var("FIELDCASE_PASSWORD") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err("set FIELDCASE_PASSWORD or run in a terminal to be prompted".into());
    }
    let p = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
    let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
    if p != again {
        return Err("the passwords differ".into());
    }
    Ok(p)
}

fn main() {
    let cli = Cli::parse();
    let settings = match cli.config.as_deref().map(FileSettings::load).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Colour codes only for a terminal: a log file or a collector gets plain text.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if settings.log_format == Some(LogFormat::Json) {
        logs.json().init();
    } else {
        logs.init();
    }
    if let Err(e) = run(cli, settings) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli, settings: FileSettings) -> Result<(), String> {
    let db_path = cli
        .db
        .or_else(|| settings.db.clone())
        .unwrap_or_else(|| PathBuf::from("fieldcase.sqlite"));
    let postgres = db::is_postgres_url(&db_path.to_string_lossy());
    let keys = key_source(cli.master_key_file.clone(), &settings, &db_path);
    // These two must not open (and so create or migrate) the database first.
    match &cli.command {
        Command::Restore {
            path,
            keys: keyring,
        } => {
            if postgres {
                return Err(
                    "restore puts a SQLite backup in place; restore PostgreSQL with pg_restore"
                        .into(),
                );
            }
            let kept =
                fieldcase_server::restore::restore(&db_path, path, &keys, keyring.as_deref())?;
            println!(
                "{} restored from {}; every session ended: users sign in again",
                db_path.display(),
                path.display()
            );
            if let Some(k) = kept {
                println!("the database it replaced is kept as {}", k.display());
            }
            return Ok(());
        }
        Command::Check => return check(&db_path, postgres, &keys, &settings),
        _ => {}
    }
    let opened = db::open_apart(&db_path, &keys, keys_url(&settings).as_deref()).map_err(|e| {
        // The operator sees why (an internal error's detail names no client data).
        let why = match e {
            fieldcase_server::AppError::Internal(detail) => detail,
            other => other.to_string(),
        };
        let spec = db_path.to_string_lossy();
        format!(
            "cannot open the database {}: {}",
            db::describe(&spec),
            db::redact(&spec, &why)
        )
    })?;
    let db: &dyn Db = opened.as_dyn();
    let mut config = Config::default();
    settings.apply(&mut config);
    if let Ok(token) = std::env::var("FIELDCASE_METRICS_TOKEN") {
        if token.len() < 16 {
            return Err("FIELDCASE_METRICS_TOKEN must be at least 16 characters".into());
        }
        config.metrics_token = Some(token);
    }
    // For tests and benchmarks only: fewer PBKDF2 rounds for new hashes (never below 1,000).
    if let Some(n) = std::env::var("FIELDCASE_PASSWORD_ITERATIONS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        config.password_iterations = n.max(1_000);
        tracing::warn!(
            iterations = config.password_iterations,
            "password iterations lowered by FIELDCASE_PASSWORD_ITERATIONS"
        );
    }
    match cli.command {
        Command::Serve {
            listen,
            demo,
            tls_cert,
            tls_key,
        } => {
            // Held while serving: `restore` refuses while it is.
            let _serving = if postgres {
                None
            } else {
                Some(fieldcase_server::restore::serving(&db_path)?)
            };
            let listen = listen
                .or(settings.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
            let tls = match (
                tls_cert.or(settings.tls_cert.clone()),
                tls_key.or(settings.tls_key.clone()),
            ) {
                (Some(cert), Some(key)) => Some(fieldcase_server::tls_config(&cert, &key)?),
                (None, None) => None,
                _ => return Err("TLS needs both a certificate and its key".into()),
            };
            if demo {
                let accounts =
                    demo::seed(db, config.password_iterations).map_err(|e| e.to_string())?;
                println!(
                    "Demo caseload ready in {}. Sign in with:",
                    db::describe(&db_path.to_string_lossy())
                );
                for a in accounts {
                    println!(
                        "  {:<11} {:<10} password {}",
                        a.username,
                        a.role.code(),
                        a.password
                    );
                }
            }
            config.tls = tls.is_some();
            serve(opened.into_dyn(), config, listen, tls)
        }
        Command::Team {
            command: TeamCommand::Add { name },
        } => {
            let t = db.add_team(&name).map_err(|e| e.to_string())?;
            log_cli(db, "add team", &t.name)?;
            println!("team {} added", t.name);
            Ok(())
        }
        Command::Team {
            command: TeamCommand::List,
        } => {
            for t in db.teams().map_err(|e| e.to_string())? {
                match &t.label {
                    Some(label) => println!("{}\t{label}", t.name),
                    None => println!("{}", t.name),
                }
            }
            Ok(())
        }
        Command::Team {
            command: TeamCommand::Rename { name, label },
        } => {
            let t = db.rename_team(&name, &label).map_err(|e| match e {
                fieldcase_server::AppError::NotFound => format!("no team {name}"),
                other => other.to_string(),
            })?;
            log_cli(db, "rename team", &format!("{} → {}", t.name, t.shown()))?;
            println!("team {} is now shown as {}", t.name, t.shown());
            Ok(())
        }
        Command::Area {
            command: AreaCommand::Put { code, name },
        } => {
            let (a, how) = db
                .put_area(&code, &name, config.areas)
                .map_err(|e| e.to_string())?;
            let action = match how {
                fieldcase_server::db::areas::AreaWrite::Renamed => "rename area",
                _ => "add area",
            };
            log_cli(db, action, &format!("{} {}", a.code, a.name))?;
            println!("area {} is {}", a.code, a.name);
            Ok(())
        }
        Command::Area {
            command: AreaCommand::List,
        } => {
            for a in db.areas().map_err(|e| e.to_string())? {
                println!("{}\t{}", a.code, a.name);
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    team,
                    name,
                },
        } => {
            let role = Role::from_code(&role).ok_or("the role is worker, supervisor or admin")?;
            let pw = password()?;
            let u = db
                .add_user(
                    &username,
                    &name,
                    role,
                    team.as_deref(),
                    &pw,
                    config.password_iterations,
                )
                .map_err(|e| e.to_string())?;
            log_cli(db, "add user", &u.username)?;
            println!("user {} added ({}, id {})", u.username, u.role.code(), u.id);
            Ok(())
        }
        Command::User {
            command: UserCommand::List,
        } => {
            for u in db.users().map_err(|e| e.to_string())? {
                if u.is_partner() {
                    continue;
                }
                let state = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<20} {:<10} {:<16} {:<8} {}",
                    u.username,
                    u.role.code(),
                    u.team.unwrap_or_default(),
                    state,
                    u.id
                );
            }
            Ok(())
        }
        Command::Case {
            command:
                CaseCommand::Assign {
                    case_id,
                    usernames,
                    case_manager,
                },
        } => {
            let id = case_id.parse().map_err(|_| "no such case".to_string())?;
            let access =
                fieldcase_server::admin::assign_case(db, id, &usernames, case_manager.as_deref())
                    .map_err(|e| match e {
                    fieldcase_server::AppError::NotFound => "no such case".to_string(),
                    other => other.to_string(),
                })?;
            log_cli(db, "assign case", &id.to_string())?;
            println!(
                "case {id} assigned to {}",
                usernames_of(db, &access.assigned)?.join(", ")
            );
            Ok(())
        }
        Command::Audit { verify: true, .. } => {
            let check = db.verify_audit().map_err(|e| e.to_string())?;
            match check.broken {
                None => {
                    println!(
                        "audit trail intact: {} entries chained{}",
                        check.entries - check.before_chain,
                        if check.before_chain > 0 {
                            format!(
                                " ({} earlier entries, written before the chain began, are not covered)",
                                check.before_chain
                            )
                        } else {
                            String::new()
                        }
                    );
                    Ok(())
                }
                Some((entry, at)) => Err(format!(
                    "audit trail broken at entry {entry} ({}): it was changed, or the entry before it removed",
                    fieldcase_core::case::rfc3339(at)
                )),
            }
        }
        Command::Audit { case, limit, .. } => {
            let case = case
                .map(|c| c.parse().map_err(|_| "no such case".to_string()))
                .transpose()?;
            let entries = db
                .audit_trail(case.as_ref(), limit)
                .map_err(|e| e.to_string())?;
            let ids: Vec<String> = entries.iter().map(|e| e.user_id.clone()).collect();
            let names = usernames_of(db, &ids)?;
            for (e, name) in entries.iter().zip(names) {
                println!(
                    "{} {} {:<20} {:<14} {}",
                    fieldcase_core::case::rfc3339(e.at),
                    e.case_id,
                    name,
                    e.device,
                    e.action
                );
            }
            Ok(())
        }
        Command::Backup { path } => {
            let AnyDb::Sqlite(sqlite) = &opened else {
                return Err(
                    "backup copies a SQLite database; back PostgreSQL up with pg_dump".into(),
                );
            };
            let cases = sqlite.backup_to(&path).map_err(|e| e.to_string())?;
            println!(
                "backup written to {} ({cases} cases, checked)",
                path.display()
            );
            Ok(())
        }
        Command::Case {
            command: CaseCommand::List,
        } => {
            for (access, _) in db.cases().map_err(|e| e.to_string())? {
                println!(
                    "{} {:<16} {:<10} {}",
                    access.id,
                    access.team,
                    fieldcase_core::case::Sensitivity::of(access.restricted).code(),
                    usernames_of(db, &access.assigned)?.join(",")
                );
            }
            Ok(())
        }
        Command::Case {
            command: CaseCommand::Erase { case_id, reason },
        } => {
            let id: fieldcase_core::CaseId =
                case_id.parse().map_err(|_| "no such case".to_string())?;
            let t = fieldcase_server::admin::erase_case(
                db,
                &id,
                fieldcase_server::admin::CLI_AUTHOR_ID,
                &reason,
            )
            .map_err(|e| match e {
                fieldcase_server::AppError::NotFound => "no such case".to_string(),
                other => other.to_string(),
            })?;
            println!(
                "case {} of team {} erased at {}: its data key is destroyed and its content \
                 deleted; phones that hold it remove it at their next sync",
                t.case_id,
                t.team,
                fieldcase_core::case::rfc3339(t.erased_at)
            );
            if !postgres {
                println!(
                    "backups taken with `backup` hold no data keys: restored, they no longer \
                     open this case. Replace every keyring copy (`key export`) now"
                );
            }
            Ok(())
        }
        Command::Case {
            command: CaseCommand::Retention { apply },
        } => {
            let now = chrono::Utc::now().timestamp_millis();
            let pass = fieldcase_server::retention::run(db, &config.retention, now, apply)
                .map_err(|e| e.to_string())?;
            let day = |ms: i64| fieldcase_core::case::rfc3339(ms)[..10].to_string();
            for t in &pass.erased {
                println!("erased   {} {:<16} {}", t.case_id, t.team, t.reason);
            }
            for d in &pass.to_erase {
                println!(
                    "to erase {} {:<16} closed {} due {}",
                    d.case_id,
                    d.team,
                    day(d.closed_at),
                    day(d.due_at)
                );
            }
            for d in &pass.listed {
                println!(
                    "decide   {} {:<16} closed {} due {}",
                    d.case_id,
                    d.team,
                    day(d.closed_at),
                    day(d.due_at)
                );
            }
            println!(
                "{} erased, {} to erase{}, {} waiting for a decision",
                pass.erased.len(),
                pass.to_erase.len(),
                if apply { "" } else { " (run with --apply)" },
                pass.listed.len()
            );
            Ok(())
        }
        Command::Case {
            command: CaseCommand::Erased,
        } => {
            for t in db.erased_cases().map_err(|e| e.to_string())? {
                println!(
                    "{} {:<16} {} {:<20} {}",
                    t.case_id,
                    t.team,
                    fieldcase_core::case::rfc3339(t.erased_at),
                    usernames_of(db, std::slice::from_ref(&t.erased_by))?.join(""),
                    t.reason
                );
            }
            Ok(())
        }
        Command::User {
            command: UserCommand::Disable { username },
        } => {
            db.disable_user(&username).map_err(|e| match e {
                fieldcase_server::AppError::NotFound => format!("no user {username}"),
                other => other.to_string(),
            })?;
            log_cli(db, "disable user", &username)?;
            println!("user {username} disabled; their sessions are revoked");
            Ok(())
        }
        Command::User {
            command: UserCommand::Enable { username },
        } => {
            db.enable_user(&username).map_err(|e| match e {
                fieldcase_server::AppError::NotFound => format!("no user {username}"),
                other => other.to_string(),
            })?;
            log_cli(db, "enable user", &username)?;
            println!("user {username} enabled; they sign in anew");
            Ok(())
        }
        Command::User {
            command: UserCommand::Devices { username },
        } => {
            let user = db
                .user_by_username(&username)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no user {username}"))?;
            let now = chrono::Utc::now().timestamp_millis();
            let when = |ms: i64| fieldcase_core::case::rfc3339(ms);
            for d in db.devices_of(&user.id, now).map_err(|e| e.to_string())? {
                let unsynced = match d.unsynced {
                    None => "unsynced not reported".to_string(),
                    Some(u) if u.done => {
                        format!("unsynced {} after its last sync ({})", u.cases, when(u.at))
                    }
                    Some(u) => format!(
                        "unsynced up to {}, its last sync did not finish ({})",
                        u.cases,
                        when(u.at)
                    ),
                };
                println!(
                    "{:<20} {:<24} {} registered {}  last seen {}  sessions {}  {unsynced}{}",
                    d.device.id,
                    d.device.name,
                    d.app_version.as_deref().unwrap_or("-"),
                    when(d.device.created_at),
                    d.last_seen.map(when).unwrap_or_else(|| "never".into()),
                    d.open_sessions,
                    if d.device.disabled { "  revoked" } else { "" }
                );
            }
            Ok(())
        }
        Command::Device {
            command: DeviceCommand::Revoke { device_id },
        } => {
            let device =
                fieldcase_server::admin::revoke_device(db, &device_id).map_err(|e| match e {
                    fieldcase_server::AppError::NotFound => format!("no device {device_id}"),
                    other => other.to_string(),
                })?;
            log_cli(db, "revoke device", &device.id)?;
            println!(
                "device {} ({}) revoked: its sessions ended, its next contact wipes it",
                device.id, device.name
            );
            Ok(())
        }
        Command::Restore { .. } | Command::Check => unreachable!("dealt with before opening"),
        Command::Key {
            command: KeyCommand::Rotate,
        } => rotate(&opened, &keys),
        Command::Key {
            command: KeyCommand::Export { path },
        } => {
            let AnyDb::Sqlite(sqlite) = &opened else {
                return Err(
                    "the keyring is kept apart on SQLite only; on PostgreSQL the data keys are \
                     in the database and in its dumps (docs/adr/0007)"
                        .into(),
                );
            };
            let n = sqlite.export_keyring(&path).map_err(|e| e.to_string())?;
            log_cli(db, "export keyring", &format!("{n} data keys"))?;
            println!(
                "{n} data keys written to {} (replacing the copy there); keep it apart from \
                 the backups and the master key, and write it again after every erasure",
                path.display()
            );
            Ok(())
        }
        Command::Directory {
            command: DirectoryCommand::Import { path, dry_run },
        } => {
            let outcome = fieldcase_server::directory::import(
                db,
                &config,
                None,
                &path,
                fieldcase_server::admin::CLI_AUTHOR_ID,
                dry_run,
            )
            .map_err(|e| e.to_string())?;
            let r = &outcome.report;
            for n in &r.not_kept {
                println!("not kept: {n}");
            }
            if !r.refused.is_empty() {
                let mut lines: Vec<String> = r.refused.iter().map(ToString::to_string).collect();
                lines.push(format!(
                    "the directory was not changed ({} refused)",
                    r.refused.len()
                ));
                return Err(lines.join("\n"));
            }
            match outcome.version {
                Some(v) => println!("directory version {v} stored: {}", r.summary()),
                None => println!("dry run, nothing stored: would have {}", r.summary()),
            }
            Ok(())
        }
        Command::Directory {
            command: DirectoryCommand::Export { path, json },
        } => {
            let v =
                fieldcase_server::directory::export(db, &path, json).map_err(|e| e.to_string())?;
            println!("directory version {v} written to {}", path.display());
            Ok(())
        }
        Command::Log { limit } => {
            for e in db.admin_log(limit).map_err(|e| e.to_string())? {
                println!(
                    "{}  {:<20} {:<16} {}",
                    fieldcase_core::case::rfc3339(e.at),
                    e.by,
                    e.action,
                    e.target
                );
            }
            Ok(())
        }
    }
}

/// The usernames of user ids (an id with no user is shown as it is).
fn usernames_of(db: &dyn Db, ids: &[String]) -> Result<Vec<String>, String> {
    let users = db.users().map_err(|e| e.to_string())?;
    Ok(ids
        .iter()
        .map(|id| {
            users
                .iter()
                .find(|u| &u.id == id)
                .map_or_else(|| id.clone(), |u| u.username.clone())
        })
        .collect())
}

fn serve(
    db: Arc<dyn Db>,
    config: Config,
    listen: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener = std::net::TcpListener::bind(listen)
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let listen = listener.local_addr().map_err(|e| e.to_string())?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%listen, scheme, "fieldcase-server listening");
        println!("Listening on {scheme}://{listen} (try GET /healthz, POST /v1/login)");
        fieldcase_server::listen::warn_if_few_open_files(&config.limits);
        let state = AppState::new(db, config);
        let stop = async {
            // Ctrl-C or SIGTERM (service managers): stop accepting, finish what runs.
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        match tls {
            Some(tls) => fieldcase_server::serve_tls(listener, state, tls, stop).await,
            None => {
                listener.set_nonblocking(true).map_err(|e| e.to_string())?;
                let listener =
                    tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
                fieldcase_server::serve(listener, state, stop).await
            }
        }
        .map_err(|e| e.to_string())
    })
}
