//! The partner directory on the server (issue 16): the command line imports and exports
//! HSDS 3.0 data packages (all or nothing, refusals with file, line and reason), the
//! directory is sealed at rest and survives a key rotation, and a phone fetches the
//! snapshot only when it changed.

use std::path::Path;
use std::process::{Command, Output};

use fieldcase_core::directory::hsds::{self, Package, MAX_FILE_BYTES};
use fieldcase_core::directory::{sample, Directory};
use fieldcase_server::Db;
use fieldcase_tests::pg::server_binary;
use fieldcase_tests::TestServer;

fn cli(db: &Path, args: &[&str]) -> Output {
    Command::new(server_binary())
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("FIELDCASE_MASTER_KEY")
        .env_remove("FIELDCASE_MASTER_KEY_FILE")
        .output()
        .unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn exported(dir: &Path) -> Directory {
    let p = Package::read_dir(dir, MAX_FILE_BYTES).unwrap();
    hsds::import(&p, &Directory::default()).directory.unwrap()
}

fn contains(bytes: &[u8], s: &str) -> bool {
    bytes.windows(s.len()).any(|w| w == s.as_bytes())
}

#[test]
fn the_command_line_imports_and_exports_packages_all_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("server.sqlite");
    let d = sample::generate(200);
    let package = tmp.path().join("package");
    hsds::export(&d).write_dir(&package).unwrap();

    let dry = cli(
        &db,
        &[
            "directory",
            "import",
            "--dry-run",
            package.to_str().unwrap(),
        ],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("dry run, nothing stored"),
        "{}",
        text(&dry.stdout)
    );

    let out = cli(&db, &["directory", "import", package.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "directory version 1 stored: added 50 location, 50 organization, 200 service, 1 taxonomy, 9 taxonomy_term; changed nothing; removed nothing"
    );

    // A package missing a column: refused with its file and line, nothing changes.
    let bad = tmp.path().join("bad");
    let mut broken = hsds::export(&sample::generate(10));
    broken.files.insert(
        "service.csv".into(),
        b"id,name,status\ns1,x,active\n".to_vec(),
    );
    broken.write_dir(&bad).unwrap();
    let out = cli(&db, &["directory", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("service.csv, line 1: the column `organization_id` is missing"),
        "{said}"
    );
    assert!(
        said.contains("the directory was not changed (1 refused)"),
        "{said}"
    );

    // Export gives back what was imported, as CSV files and as JSON.
    let out_dir = tmp.path().join("out");
    let out = cli(&db, &["directory", "export", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("directory version 1 written"));
    assert_eq!(exported(&out_dir), d);
    let json = tmp.path().join("directory.json");
    let out = cli(
        &db,
        &["directory", "export", "--json", json.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = hsds::import_json(&std::fs::read(&json).unwrap(), &Directory::default());
    assert_eq!(again.directory, Some(d.clone()));

    // The JSON form imports too; a second import of the same is a new version that
    // changes nothing.
    let out = cli(&db, &["directory", "import", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "directory version 2 stored: added nothing; changed nothing; removed nothing"
    );

    // Each import is in the admin log.
    let log = text(&cli(&db, &["log"]).stdout);
    assert_eq!(log.matches("import directory").count(), 2, "{log}");

    // Sealed at rest: no name of the directory is in the database file.
    let bytes = std::fs::read(&db).unwrap();
    let names: String = d.services.iter().map(|s| s.name.as_str()).collect();
    for name in [
        "Bệnh viện Nhi",
        "Юридическая помощь",
        "Притулок",
        "บ้านพักฉุกเฉิน",
        "کمک نقدی",
    ] {
        assert!(names.contains(name), "{name} is a name of the directory");
        assert!(!contains(&bytes, name), "{name} in the clear");
    }

    // A rotation of the master key rewraps the directory's key: it still opens.
    let out = cli(&db, &["key", "rotate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = tmp.path().join("after");
    let out = cli(&db, &["directory", "export", after.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(exported(&after), d);
}

#[test]
fn a_file_over_the_import_limit_is_refused_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("server.sqlite");
    let config = tmp.path().join("fieldcase.toml");
    std::fs::write(&config, "[directory]\nmax_import_bytes = 2000\n").unwrap();
    let package = tmp.path().join("package");
    hsds::export(&sample::generate(40))
        .write_dir(&package)
        .unwrap();
    let out = Command::new(server_binary())
        .arg("--db")
        .arg(&db)
        .arg("--config")
        .arg(&config)
        .args(["directory", "import", package.to_str().unwrap()])
        .env_remove("FIELDCASE_MASTER_KEY")
        .env_remove("FIELDCASE_MASTER_KEY_FILE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(said.contains("larger than 2000 bytes"), "{said}");
}

#[test]
fn a_phone_fetches_the_directory_only_when_it_changed() {
    let server = TestServer::start();
    let (_phone, token, _dir) = server.phone("anna");

    let (status, _) = server.rest("GET", "/v1/directory", None, None);
    assert_eq!(status, 401);
    let (status, _) = server.rest("GET", "/v1/directory", Some(&token), None);
    assert_eq!(status, 204, "none stored, none held");

    let d = sample::generate(30);
    let v = server
        .db
        .put_directory(&d, 0, "admin", 1_000, fieldcase_server::DIRECTORY_MAX_BYTES)
        .unwrap();
    assert_eq!(v, 1);
    let (status, body) = server.rest("GET", "/v1/directory?have=0", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["updated_at"], 1_000);
    let got: Directory = serde_json::from_value(body["directory"].clone()).unwrap();
    assert_eq!(got, d);
    let (status, _) = server.rest("GET", "/v1/directory?have=1", Some(&token), None);
    assert_eq!(status, 204);

    // Another write: the phone holding version 1 gets version 2.
    let mut d2 = d.clone();
    d2.services[0].status = fieldcase_core::directory::ServiceStatus::TemporarilyClosed;
    let stale = server.db.put_directory(&d2, 0, "admin", 2_000, usize::MAX);
    assert!(
        matches!(
            &stale,
            Err(e @ fieldcase_server::AppError::Invalid { .. }) if e.to_string().contains("changed meanwhile")
        ),
        "{stale:?}"
    );
    server
        .db
        .put_directory(&d2, 1, "admin", 2_000, usize::MAX)
        .unwrap();
    let (status, body) = server.rest("GET", "/v1/directory?have=1", Some(&token), None);
    assert_eq!((status, body["version"].as_i64()), (200, Some(2)));

    // An app of an earlier schema revision is told to update, like on the other routes.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .get(format!("{}/v1/directory", server.url))
        .header("authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 426);

    let metrics = server.metrics();
    assert!(
        metrics.contains("fieldcase_directory_sent_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("fieldcase_directory_current_total 2"),
        "{metrics}"
    );
}
