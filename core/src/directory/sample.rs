//! A generated directory in the five scripts of our users (Vietnamese, Russian, Ukrainian,
//! Thai, Persian; names in English too), for the demo, benchmarks and tests. The same
//! count always gives the same directory.

use super::{
    Address, Directory, Eligibility, Language, LocalName, Location, Organization, Phone, Service,
    ServiceAtLocation, ServiceStatus, Taxonomy, TaxonomyTerm,
};

/// A kind of service: its life domain, its names (en, vi, ru, uk, th, fa) and its ages.
struct Kind {
    code: &'static str,
    domain: &'static str,
    names: [&'static str; 6],
    ages: (Option<u32>, Option<u32>),
}

const LANGS: [&str; 6] = ["en", "vi", "ru", "uk", "th", "fa"];

const KINDS: &[Kind] = &[
    Kind {
        code: "legal-aid",
        domain: "legal_status",
        names: [
            "Legal aid",
            "Trợ giúp pháp lý",
            "Юридическая помощь",
            "Правова допомога",
            "ความช่วยเหลือทางกฎหมาย",
            "کمک حقوقی",
        ],
        ages: (None, None),
    },
    Kind {
        code: "shelter",
        domain: "housing",
        names: [
            "Emergency shelter",
            "Nhà tạm lánh",
            "Кризисный приют",
            "Притулок",
            "บ้านพักฉุกเฉิน",
            "خانه امن",
        ],
        ages: (None, None),
    },
    Kind {
        code: "child-hospital",
        domain: "physical_health",
        names: [
            "Children's hospital",
            "Bệnh viện Nhi",
            "Детская больница",
            "Дитяча лікарня",
            "โรงพยาบาลเด็ก",
            "بیمارستان کودکان",
        ],
        ages: (Some(0), Some(16)),
    },
    Kind {
        code: "counselling",
        domain: "mental_health",
        names: [
            "Psychological counselling",
            "Tư vấn tâm lý",
            "Психологическая консультация",
            "Психологічна консультація",
            "ให้คำปรึกษาด้านจิตใจ",
            "مشاوره روانشناسی",
        ],
        ages: (None, None),
    },
    Kind {
        code: "vocational-training",
        domain: "employment",
        names: [
            "Vocational training",
            "Dạy nghề",
            "Профессиональное обучение",
            "Професійне навчання",
            "ฝึกอาชีพ",
            "آموزش فنی و حرفه‌ای",
        ],
        ages: (Some(15), Some(35)),
    },
    Kind {
        code: "school-support",
        domain: "education",
        names: [
            "School support",
            "Hỗ trợ học tập",
            "Помощь в учёбе",
            "Допомога в навчанні",
            "สนับสนุนการเรียน",
            "کمک آموزشی",
        ],
        ages: (Some(6), Some(18)),
    },
    Kind {
        code: "cash-assistance",
        domain: "income",
        names: [
            "Cash assistance",
            "Trợ cấp xã hội",
            "Материальная помощь",
            "Грошова допомога",
            "เงินช่วยเหลือ",
            "کمک نقدی",
        ],
        ages: (None, None),
    },
    Kind {
        code: "violence-hotline",
        domain: "safety",
        names: [
            "Domestic violence hotline",
            "Đường dây nóng bạo lực gia đình",
            "Горячая линия по домашнему насилию",
            "Гаряча лінія з домашнього насильства",
            "สายด่วนความรุนแรงในครอบครัว",
            "خط تلفن خشونت خانگی",
        ],
        ages: (None, None),
    },
];

/// Per script: its language, country, calling code and areas.
struct Region {
    lang: &'static str,
    country: &'static str,
    calling: &'static str,
    areas: &'static [&'static str],
}

const REGIONS: &[Region] = &[
    Region {
        lang: "vi",
        country: "VN",
        calling: "+84",
        areas: &["Hà Nội", "Đà Nẵng", "Cần Thơ", "Thừa Thiên Huế"],
    },
    Region {
        lang: "ru",
        country: "RU",
        calling: "+7",
        areas: &["Москва", "Казань", "Самара"],
    },
    Region {
        lang: "uk",
        country: "UA",
        calling: "+380",
        areas: &["Київ", "Львів", "Харків"],
    },
    Region {
        lang: "th",
        country: "TH",
        calling: "+66",
        areas: &["เชียงใหม่", "ขอนแก่น", "กรุงเทพมหานคร"],
    },
    Region {
        lang: "fa",
        country: "IR",
        calling: "+98",
        areas: &["تهران", "مشهد", "اصفهان"],
    },
];

/// How many services each generated organisation gives.
const SERVICES_PER_ORGANIZATION: usize = 4;

/// The ids generated entries carry.
fn id(kind: &str, n: usize) -> String {
    format!("{kind}-{n:06}")
}

/// A directory of `services` services (in five scripts, eight kinds, a few areas each),
/// with one organisation and one location per [`SERVICES_PER_ORGANIZATION`] services.
/// Every twentieth service is temporarily closed and every fiftieth inactive.
pub fn generate(services: usize) -> Directory {
    let mut d = Directory {
        taxonomies: vec![Taxonomy {
            id: "taxonomy-services".into(),
            name: "Services of the sample directory".into(),
            description: "The kinds of help the generated partners give.".into(),
            uri: None,
            version: Some("1".into()),
        }],
        ..Directory::default()
    };
    d.terms.push(TaxonomyTerm {
        id: "term-social-services".into(),
        code: Some("social-services".into()),
        name: "Social services".into(),
        description: "Every kind of help below.".into(),
        taxonomy_id: Some("taxonomy-services".into()),
        language: Some("en".into()),
        ..TaxonomyTerm::default()
    });
    for k in KINDS {
        d.terms.push(TaxonomyTerm {
            id: format!("term-{}", k.code),
            code: Some(k.code.into()),
            name: k.names[0].into(),
            description: k.names[0].into(),
            parent_id: Some("term-social-services".into()),
            taxonomy_id: Some("taxonomy-services".into()),
            language: Some("en".into()),
            domains: vec![k.domain.into()],
        });
    }
    let local_names = |k: &Kind, suffix: &str| -> Vec<LocalName> {
        LANGS
            .iter()
            .zip(k.names)
            .map(|(l, n)| LocalName {
                language: (*l).into(),
                name: format!("{n} {suffix}"),
            })
            .collect()
    };
    for i in 0..services {
        // An organisation's services share its region and area; their kinds differ.
        let region = &REGIONS[(i / SERVICES_PER_ORGANIZATION) % REGIONS.len()];
        let kind = &KINDS[i % KINDS.len()];
        let area =
            region.areas[(i / (SERVICES_PER_ORGANIZATION * REGIONS.len())) % region.areas.len()];
        let lang_index = LANGS.iter().position(|l| *l == region.lang).unwrap_or(0);
        let org_n = i / SERVICES_PER_ORGANIZATION;
        let org_id = id("org", org_n);
        let loc_id = id("loc", org_n);
        if i % SERVICES_PER_ORGANIZATION == 0 {
            let org_kind = kind;
            d.organizations.push(Organization {
                id: org_id.clone(),
                name: format!("{} {area} {org_n}", org_kind.names[lang_index]),
                description: format!("{} ({area})", org_kind.names[0]),
                names: vec![LocalName {
                    language: "en".into(),
                    name: format!("{} {org_n}", org_kind.names[0]),
                }],
                phones: vec![Phone {
                    id: id("phone-org", org_n),
                    number: format!(
                        "{} {:04} {:04}",
                        region.calling,
                        org_n % 10_000,
                        1000 + org_n % 9000
                    ),
                    kind: Some("voice".into()),
                    ..Phone::default()
                }],
                ..Organization::default()
            });
            d.locations.push(Location {
                id: loc_id.clone(),
                organization_id: Some(org_id.clone()),
                location_type: "physical".into(),
                name: Some(format!("{area} {org_n}")),
                addresses: vec![Address {
                    id: id("addr", org_n),
                    address_1: format!("{} {area}", org_n % 300 + 1),
                    city: area.into(),
                    state_province: area.into(),
                    postal_code: format!("{:05}", 10_000 + org_n % 90_000),
                    country: region.country.into(),
                    address_type: "physical".into(),
                    ..Address::default()
                }],
                languages: vec![Language {
                    code: region.lang.into(),
                    name: None,
                }],
                ..Location::default()
            });
        }
        let status = if i % 50 == 49 {
            ServiceStatus::Inactive
        } else if i % 20 == 19 {
            ServiceStatus::TemporarilyClosed
        } else {
            ServiceStatus::Active
        };
        let genders = if kind.code == "shelter" && (i / KINDS.len()).is_multiple_of(2) {
            vec!["female".to_owned()]
        } else {
            Vec::new()
        };
        let mut languages = vec![Language {
            code: region.lang.into(),
            name: None,
        }];
        if i % 3 == 0 {
            languages.push(Language {
                code: "en".into(),
                name: Some("English".into()),
            });
        }
        d.services.push(Service {
            id: id("svc", i),
            organization_id: org_id,
            name: format!("{} {area} {i}", kind.names[lang_index]),
            alternate_name: None,
            description: Some(format!("{} ({area})", kind.names[0])),
            email: None,
            url: None,
            status,
            names: local_names(kind, &i.to_string())
                .into_iter()
                .filter(|n| n.language != region.lang)
                .collect(),
            eligibility: Eligibility {
                minimum_age: kind.ages.0,
                maximum_age: kind.ages.1,
                genders,
                areas: vec![area.into()],
                description: None,
            },
            languages,
            phones: vec![Phone {
                id: id("phone-svc", i),
                number: format!(
                    "{} {:04} {:04}",
                    region.calling,
                    i % 10_000,
                    2000 + i % 8000
                ),
                kind: Some("voice".into()),
                ..Phone::default()
            }],
            contacts: Vec::new(),
            locations: vec![ServiceAtLocation {
                id: id("sal", i),
                location_id: loc_id,
            }],
            term_ids: vec![format!("term-{}", kind.code)],
        });
    }
    d.normalize();
    d
}
