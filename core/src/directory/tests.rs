use super::*;
use crate::Error;

fn index(n: usize) -> DirectoryIndex {
    DirectoryIndex::new(sample::generate(n))
}

fn ids(hits: &[DirectoryHit]) -> Vec<&str> {
    hits.iter().map(|h| h.service_id.as_str()).collect()
}

fn filter(query: &str) -> DirectoryFilter {
    DirectoryFilter {
        query: Some(query.into()),
        limit: Some(DirectoryIndex::MAX_RESULTS),
        ..DirectoryFilter::default()
    }
}

#[test]
fn the_generated_directory_passes_its_own_check() {
    let d = sample::generate(400);
    assert_eq!(d.check(), vec![]);
    assert_eq!(d.services.len(), 400);
    assert_eq!(d.organizations.len(), 100);
}

#[test]
fn found_in_every_script_with_the_folding_of_client_names() {
    let ix = index(400);
    // Vietnamese without its diacritics.
    let hits = ix.search(&filter("benh vien nhi")).unwrap();
    assert!(
        hits.iter().any(|h| h.name.starts_with("Bệnh viện Nhi")),
        "{hits:?}"
    );
    // Services of other regions carry the Vietnamese name too, and are found by it.
    assert!(
        hits.iter().any(|h| h.name.starts_with("Детская больница")),
        "{hits:?}"
    );
    assert!(
        hits.iter().all(|h| h.domains == ["physical_health"]),
        "{hits:?}"
    );
    // Russian, with ё typed as е.
    let hits = ix.search(&filter("помощь в учебе")).unwrap();
    assert!(
        hits.iter().any(|h| h.name.starts_with("Помощь в учёбе")),
        "{hits:?}"
    );
    // Ukrainian, upper case.
    assert!(!ix.search(&filter("ПРАВОВА")).unwrap().is_empty());
    // Thai: a part of a word (no spaces between Thai words).
    let hits = ix.search(&filter("ฉุกเฉิน")).unwrap();
    assert!(
        hits.iter().any(|h| h.name.starts_with("บ้านพักฉุกเฉิน")),
        "{hits:?}"
    );
    // Persian typed with Arabic yeh and kaf.
    let hits = ix.search(&filter("كمك نقدي")).unwrap();
    assert!(
        hits.iter().any(|h| h.name.starts_with("کمک نقدی")),
        "{hits:?}"
    );
    // A name in another language finds the service too; the hit shows the name asked for.
    let mut f = filter("legal aid");
    f.display_language = Some("en".into());
    let hits = ix.search(&f).unwrap();
    assert!(hits[0].name.starts_with("Legal aid"), "{hits:?}");
    // Then services of organisations named so.
    assert!(hits
        .iter()
        .all(|h| h.name.starts_with("Legal aid") || h.organization_name.starts_with("Legal aid")));
    // Nothing matches nonsense.
    assert!(ix.search(&filter("zzzqqq")).unwrap().is_empty());
}

#[test]
fn names_first_then_organisations_terms_and_areas() {
    let ix = index(400);
    // "Hà Nội" is in every Hanoi service's name and in its area.
    let hits = ix.search(&filter("ha noi")).unwrap();
    assert!(!hits.is_empty());
    // Organisation names find the services of the organisation.
    let d = ix.directory();
    let org = &d.organizations[7];
    let hits = ix.search(&filter(&org.name)).unwrap();
    assert!(hits.iter().any(|h| h.organization_id == org.id), "{hits:?}");
    // A term's name finds services tagged with it (a later rank than name matches).
    let hits = ix.search(&filter("social")).unwrap();
    assert!(
        hits.is_empty(),
        "the parent term is not the service's own term"
    );
    let hits = ix.search(&filter("vocational")).unwrap();
    assert!(!hits.is_empty());
}

#[test]
fn filters_by_domain_area_language_age_gender_and_status() {
    let ix = index(800);
    let all = DirectoryFilter {
        limit: Some(DirectoryIndex::MAX_RESULTS),
        ..DirectoryFilter::default()
    };
    let d = ix.directory();

    let housing = ix
        .search(&DirectoryFilter {
            domain: Some("housing".into()),
            ..all.clone()
        })
        .unwrap();
    assert!(!housing.is_empty());
    for h in &housing {
        assert!(h.domains.contains(&"housing".to_owned()));
        assert!(d.service(&h.service_id).unwrap().term_ids == vec!["term-shelter".to_owned()]);
    }

    let kyiv = ix
        .search(&DirectoryFilter {
            area: Some("київ".into()),
            ..all.clone()
        })
        .unwrap();
    assert!(!kyiv.is_empty());
    assert!(kyiv.iter().all(|h| h.areas == ["Київ"]), "{kyiv:?}");

    let thai = ix
        .search(&DirectoryFilter {
            language: Some("th".into()),
            ..all.clone()
        })
        .unwrap();
    assert!(!thai.is_empty());
    for h in &thai {
        assert!(h.phones.iter().any(|p| p.starts_with("+66")), "{h:?}");
    }

    // A 40-year-old is too old for the children's hospital, school support and training.
    let adult = ix
        .search(&DirectoryFilter {
            age: Some(40),
            ..all.clone()
        })
        .unwrap();
    assert!(!adult.is_empty());
    for h in &adult {
        let e = &d.service(&h.service_id).unwrap().eligibility;
        assert!(e.maximum_age.is_none_or(|m| m >= 40), "{h:?}");
    }
    let child = ix
        .search(&DirectoryFilter {
            age: Some(3),
            domain: Some("physical_health".into()),
            ..all.clone()
        })
        .unwrap();
    assert!(!child.is_empty());

    // Shelters for women only are not offered for a man.
    let men = ix
        .search(&DirectoryFilter {
            gender: Some("male".into()),
            domain: Some("housing".into()),
            ..all.clone()
        })
        .unwrap();
    let women = ix
        .search(&DirectoryFilter {
            gender: Some("female".into()),
            domain: Some("housing".into()),
            ..all.clone()
        })
        .unwrap();
    assert!(men.len() < women.len(), "{} {}", men.len(), women.len());

    // Inactive services are hidden unless asked for; temporarily closed ones are shown.
    // (400 services: fewer than a search returns at most.)
    let ix = index(400);
    let shown = ix
        .search(&DirectoryFilter {
            limit: Some(1000),
            ..all.clone()
        })
        .unwrap();
    assert!(shown.iter().all(|h| h.status != ServiceStatus::Inactive));
    assert!(shown
        .iter()
        .any(|h| h.status == ServiceStatus::TemporarilyClosed));
    let every = ix
        .search(&DirectoryFilter {
            include_inactive: Some(true),
            limit: Some(1000),
            ..all.clone()
        })
        .unwrap();
    assert!(every.iter().any(|h| h.status == ServiceStatus::Inactive));
    assert!(every.len() > shown.len());
}

#[test]
fn searches_are_bounded_and_bad_filters_refused() {
    let ix = index(1200);
    let hits = ix
        .search(&DirectoryFilter {
            limit: Some(100_000),
            ..DirectoryFilter::default()
        })
        .unwrap();
    assert_eq!(hits.len(), DirectoryIndex::MAX_RESULTS);
    let hits = ix.search(&DirectoryFilter::default()).unwrap();
    assert_eq!(hits.len(), DirectoryIndex::DEFAULT_RESULTS);
    // In order of their folded names: the same search gives the same order.
    assert_eq!(
        ids(&hits),
        ids(&ix.search(&DirectoryFilter::default()).unwrap())
    );

    let long = "a".repeat(DirectoryIndex::MAX_QUERY_BYTES + 1);
    assert!(matches!(
        ix.search(&filter(&long)),
        Err(Error::InvalidInput { .. })
    ));
    let bad_domain = DirectoryFilter {
        domain: Some("cooking".into()),
        ..DirectoryFilter::default()
    };
    assert!(matches!(
        ix.search(&bad_domain),
        Err(Error::InvalidInput { .. })
    ));
    let bad_gender = DirectoryFilter {
        gender: Some("x".into()),
        ..DirectoryFilter::default()
    };
    assert!(matches!(
        ix.search(&bad_gender),
        Err(Error::InvalidInput { .. })
    ));
}

#[test]
fn an_entry_brings_its_organisation_locations_terms_and_domains() {
    let ix = index(40);
    let e = ix.entry("svc-000002").unwrap();
    assert_eq!(e.organization.id, e.service.organization_id);
    assert_eq!(e.locations.len(), 1);
    assert_eq!(e.terms.len(), 1);
    assert_eq!(e.domains, vec!["physical_health".to_owned()]);
    assert!(ix.entry("nope").is_none());
}

#[test]
fn a_child_term_serves_its_parents_domains() {
    let mut d = sample::generate(8);
    d.terms
        .iter_mut()
        .find(|t| t.id == "term-social-services")
        .unwrap()
        .domains = vec!["community_resources".into()];
    let domains = d.term_domains();
    let shelter = &domains["term-shelter"];
    assert!(shelter.contains("housing") && shelter.contains("community_resources"));
}

fn reasons(d: &Directory) -> Vec<String> {
    d.check().iter().map(ToString::to_string).collect()
}

#[test]
fn the_check_refuses_what_would_break_the_directory() {
    let good = sample::generate(8);

    let mut d = good.clone();
    d.services[0].organization_id = "ghost".into();
    assert_eq!(
        reasons(&d),
        vec!["service `svc-000000`, organization_id: no organization has this id"]
    );

    let mut d = good.clone();
    let dup = d.services[0].clone();
    d.services.push(dup);
    assert!(
        reasons(&d)
            .iter()
            .any(|r| r.contains("this id is used twice")),
        "{:?}",
        reasons(&d)
    );

    let mut d = good.clone();
    d.terms[1].domains = vec!["cooking".into()];
    assert!(reasons(&d)
        .iter()
        .any(|r| r.contains("not one of the life domains")));

    let mut d = good.clone();
    let root = d
        .terms
        .iter_mut()
        .find(|t| t.id == "term-social-services")
        .unwrap();
    root.parent_id = Some("term-shelter".into());
    assert!(
        reasons(&d).iter().any(|r| r.contains("parents loop")),
        "{:?}",
        reasons(&d)
    );

    let mut d = good.clone();
    d.services[0].locations[0].location_id = "nowhere".into();
    assert!(reasons(&d)
        .iter()
        .any(|r| r.contains("no location has this id")));

    let mut d = good.clone();
    d.services[0].term_ids.push("unknown-term".into());
    assert!(reasons(&d)
        .iter()
        .any(|r| r.contains("no taxonomy term has this id")));

    let mut d = good.clone();
    d.services[0].eligibility.minimum_age = Some(30);
    d.services[0].eligibility.maximum_age = Some(10);
    assert!(reasons(&d)
        .iter()
        .any(|r| r.contains("above the maximum age")));

    let mut d = good.clone();
    d.services[0].name = "x".repeat(MAX_SHORT_BYTES + 1);
    assert!(reasons(&d).iter().any(|r| r.contains("name: longer than")));

    let mut d = good.clone();
    let phone = d.services[0].phones[0].clone();
    d.services[0].phones = (0..=MAX_ATTACHED)
        .map(|i| Phone {
            id: format!("p{i}"),
            ..phone.clone()
        })
        .collect();
    assert!(reasons(&d)
        .iter()
        .any(|r| r.contains("more than 64 entries")));

    let mut d = good.clone();
    d.services[0].status = ServiceStatus::parse("open-ish");
    assert!(reasons(&d).iter().any(|r| r.contains("status")));

    let mut d = good.clone();
    d.services[0].languages[0].code = "Vietnamese".into();
    assert!(reasons(&d).iter().any(|r| r.contains("ISO 639")));

    let mut d = good.clone();
    d.services[0].id = "bad\nid\u{1b}[31m".into();
    let r = reasons(&d);
    assert!(
        r.iter().all(|r| !r.contains('\n') && !r.contains('\u{1b}')),
        "{r:?}"
    );

    let mut d = good;
    d.services = (0..=MAX_SERVICES).map(|_| d.services[0].clone()).collect();
    assert_eq!(
        reasons(&d),
        vec![format!("service ``, : more than {MAX_SERVICES} entries")]
    );
}
