use super::*;
use crate::directory::sample;

fn with_contacts() -> Directory {
    let mut d = sample::generate(60);
    d.organizations[0].contacts.push(NamedContact {
        id: "contact-1".into(),
        name: Some("Nguyễn Thị Lan".into()),
        title: Some("Điều phối viên".into()),
        department: None,
        email: Some("lan@example.org".into()),
        phones: vec![Phone {
            id: "phone-contact-1".into(),
            number: "+84 24 3826 0000".into(),
            extension: Some(12),
            kind: Some("cell".into()),
            description: None,
        }],
    });
    d.services[3].contacts.push(NamedContact {
        id: "contact-2".into(),
        name: Some("Олена Коваль".into()),
        ..NamedContact::default()
    });
    d.locations[0].names.push(LocalName {
        language: "en".into(),
        name: "Hanoi office".into(),
    });
    d.locations[0].addresses[0].region = Some("Ba Đình".into());
    d.normalize();
    assert_eq!(d.check(), vec![]);
    d
}

fn csv_file(p: &Package, name: &str) -> String {
    String::from_utf8(p.files[name].clone()).unwrap()
}

#[test]
fn export_then_import_gives_the_same_directory() {
    let d = with_contacts();
    let package = export(&d);
    for t in TABLES {
        assert!(package.files.contains_key(&format!("{t}.csv")), "{t}");
    }
    let imported = import(&package, &Directory::default());
    assert_eq!(imported.report.refused, vec![]);
    assert_eq!(imported.report.not_kept, Vec::<String>::new());
    assert_eq!(imported.directory.as_ref(), Some(&d));
    assert_eq!(imported.report.added.len(), 60 + 15 + 15 + 1 + 9);
    assert!(imported.report.changed.is_empty() && imported.report.removed.is_empty());

    // Importing it over itself changes nothing.
    let again = import(&package, &d);
    assert_eq!(
        again.report.summary(),
        "added nothing; changed nothing; removed nothing"
    );

    // The JSON form too.
    let json = export_json(&d);
    let imported = import_json(&json, &Directory::default());
    assert_eq!(imported.report.refused, vec![]);
    assert_eq!(imported.directory, Some(d));
}

#[test]
fn the_package_speaks_hsds() {
    let d = with_contacts();
    let p = export(&d);
    let descriptor: Value = serde_json::from_slice(&p.files["datapackage.json"]).unwrap();
    assert_eq!(descriptor["profile"], "tabular-data-package");
    let names: Vec<&str> = descriptor["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, TABLES);
    assert!(csv_file(&p, "service.csv").starts_with(
        "id,organization_id,name,alternate_name,description,url,email,status,eligibility_description,minimum_age,maximum_age\n"
    ));
    assert!(csv_file(&p, "service.csv").contains(",temporarily closed,"));
    // Our own taxonomies are marked by their uri.
    let taxonomy = csv_file(&p, "taxonomy.csv");
    for uri in [LIFE_DOMAIN_URI, NAME_URI, GENDER_URI] {
        assert!(taxonomy.contains(uri), "{uri}");
    }
}

#[test]
fn a_package_written_elsewhere_imports_and_what_is_not_kept_is_listed() {
    let mut files = BTreeMap::new();
    files.insert(
        "datapackage.json".into(),
        br#"{"resources": [
            {"name": "organization", "path": "organizations.csv"},
            {"name": "service", "path": "services.csv"},
            {"name": "schedule", "path": "schedules.csv"}
        ]}"#
        .to_vec(),
    );
    files.insert(
        "organizations.csv".into(),
        "\u{feff}id,name,description,tax_id\no1,Центр допомоги,,123\n"
            .as_bytes()
            .to_vec(),
    );
    files.insert(
        "services.csv".into(),
        b"id,organization_id,name,status,minimum_age\ns1,o1,Legal aid,active,18.0\n".to_vec(),
    );
    let imported = import(&Package { files }, &Directory::default());
    assert_eq!(imported.report.refused, vec![]);
    assert_eq!(
        imported.report.not_kept,
        vec!["organization.tax_id", "schedule"]
    );
    let d = imported.directory.unwrap();
    assert_eq!(d.services[0].eligibility.minimum_age, Some(18));
    assert_eq!(d.organizations[0].name, "Центр допомоги");
}

fn refusals(p: &Package) -> Vec<String> {
    let imported = import(p, &sample::generate(8));
    assert!(
        imported.directory.is_none(),
        "refused imports store nothing"
    );
    imported
        .report
        .refused
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn bad_input_is_refused_with_file_line_and_reason_and_nothing_applies() {
    let good = export(&with_contacts());

    let mut p = good.clone();
    p.files.insert(
        "service.csv".into(),
        b"id,name,status\ns1,x,active\n".to_vec(),
    );
    assert_eq!(
        refusals(&p),
        vec!["service.csv, line 1: the column `organization_id` is missing"]
    );

    let mut p = good.clone();
    let broken = csv_file(&good, "phone.csv").replacen('\n', "\n\"unclosed,,\n", 2);
    p.files.insert("phone.csv".into(), broken.into_bytes());
    let r = refusals(&p);
    assert!(r.iter().any(|r| r.starts_with("phone.csv, line")), "{r:?}");

    let mut p = good.clone();
    let mut s = csv_file(&good, "service_at_location.csv");
    s.push_str("sal-x,svc-999999,loc-000000\n");
    p.files
        .insert("service_at_location.csv".into(), s.into_bytes());
    let lines = csv_file(&good, "service_at_location.csv").lines().count() + 1;
    assert_eq!(
        refusals(&p),
        vec![format!(
            "service_at_location.csv, line {lines}: `service_id` names no service"
        )]
    );

    let mut p = good.clone();
    let s = csv_file(&good, "service.csv").replacen(",active,", ",open,", 1);
    p.files.insert("service.csv".into(), s.into_bytes());
    assert_eq!(
        refusals(&p),
        vec!["service.csv, line 2: `status` is not one of active, inactive, defunct, temporarily closed"]
    );

    // An unknown organization, found by the whole directory's check, placed on its row.
    let mut p = good.clone();
    let s = csv_file(&good, "service.csv").replacen("org-000000", "org-ghost", 1);
    p.files.insert("service.csv".into(), s.into_bytes());
    assert_eq!(
        refusals(&p),
        vec!["service.csv, line 2: service `svc-000000`, organization_id: no organization has this id"]
    );

    let mut p = good.clone();
    p.files.remove("address.csv");
    assert_eq!(
        refusals(&p),
        vec!["address.csv: named in datapackage.json but not in the package"]
    );

    let mut p = good.clone();
    p.files.insert(
        "datapackage.json".into(),
        b"{\"resources\": [{\"name\": \"service\", \"path\": \"../../etc/passwd\"}]}".to_vec(),
    );
    assert_eq!(
        refusals(&p),
        vec!["datapackage.json: a resource's `path` must be a file name beside datapackage.json"]
    );

    let mut p = good.clone();
    p.files
        .insert("datapackage.json".into(), b"{not json".to_vec());
    assert_eq!(
        refusals(&p),
        vec!["datapackage.json, line 1: not valid JSON"]
    );

    let mut p = good.clone();
    p.files.insert(
        "service.csv".into(),
        vec![b'x'; MAX_FILE_BYTES as usize + 1],
    );
    assert_eq!(
        refusals(&p),
        vec![format!("service.csv: larger than {MAX_FILE_BYTES} bytes")]
    );

    let mut p = good;
    p.files.insert(
        "organization.csv".into(),
        b"id,name\n\xff\xfe,bad\n".to_vec(),
    );
    let r = refusals(&p);
    assert!(
        r.iter()
            .any(|r| r == "organization.csv, line 2: not UTF-8 text"),
        "{r:?}"
    );
}

#[test]
fn an_import_reports_what_it_adds_changes_and_removes() {
    let old = sample::generate(8);
    let mut new = old.clone();
    new.services[0].status = ServiceStatus::TemporarilyClosed;
    new.services.remove(1);
    new.services[2].phones[0].number = "+84 1".into();
    let mut extra = new.services[0].clone();
    extra.id = "svc-new".into();
    extra.locations[0].id = "sal-new".into();
    extra.phones[0].id = "phone-new".into();
    new.services.push(extra);
    new.normalize();
    let imported = import(&export(&new), &old);
    assert_eq!(imported.report.refused, vec![]);
    let ids = |l: &[EntryRef]| {
        l.iter()
            .map(|e| format!("{}:{}", e.table, e.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&imported.report.added), vec!["service:svc-new"]);
    assert_eq!(
        ids(&imported.report.changed),
        vec!["service:svc-000000", "service:svc-000003"]
    );
    assert_eq!(ids(&imported.report.removed), vec!["service:svc-000001"]);
    assert_eq!(
        imported.report.summary(),
        "added 1 service; changed 2 service; removed 1 service"
    );
}

#[test]
fn a_package_reads_from_a_folder_and_refuses_oversized_files() {
    let d = with_contacts();
    let dir = tempfile::tempdir().unwrap();
    export(&d).write_dir(dir.path()).unwrap();
    let p = Package::read_dir(dir.path(), MAX_FILE_BYTES).unwrap();
    assert_eq!(import(&p, &Directory::default()).directory, Some(d));
    let err = Package::read_dir(dir.path(), 100).unwrap_err();
    assert_eq!(err[0].reason, "larger than 100 bytes");
    let err = Package::read_dir(&dir.path().join("missing"), MAX_FILE_BYTES).unwrap_err();
    assert!(err[0].reason.starts_with("cannot be read"), "{err:?}");
}
