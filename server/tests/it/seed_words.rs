//! The workflow's words in the console's languages, pinned to the seeds they come from
//! (`shared/seeds/` beside the repository; issue 15, point 9): stage names, the intake's
//! decision and criteria, the child-protection conclusions and their next steps, closing,
//! referral answers and the review's words. Each row quotes the seed (file and line in the
//! comment); the message must be the quotation (`Exact`) or hold it (`Holds`), compared in
//! lower case with Persian zero-width non-joiners read as spaces. Seeds: 000 Thai,
//! 001 Persian, 002 Russian, 003 Ukrainian, 004 Vietnamese (the conclusions follow it word
//! for word). Every quotation of the table is the seed's text (in lower case, ё as е); a
//! row that holds a stem quotes the seed's inflected form in its comment. English has no seed of its own: its words are checked by hand against
//! the English sentence of seed 001 (line 180).

/// How a message must match its seed quotation.
#[derive(Debug, Clone, Copy)]
enum Match {
    /// The message is the quotation.
    Exact,
    /// The message holds the quotation.
    Holds,
}
use Match::*;

const SEED_WORDS: &[(&str, &str, Match, &str)] = &[
    // 004 line 52 ("Đánh giá nguy cơ"): the four conclusions and their next steps.
    (
        "vi",
        "finding-no_evidence_of_abuse",
        Exact,
        "Không có bằng chứng về xâm hại xảy ra với trẻ",
    ),
    (
        "vi",
        "finding-insufficient_information",
        Exact,
        "Chưa có đầy đủ thông tin và không kết luận được trẻ đã bị xâm hại hay chưa",
    ),
    (
        "vi",
        "finding-other_family_problems",
        Exact,
        "Có chứng cớ cho thấy gia đình có vấn đề khác",
    ),
    (
        "vi",
        "finding-evidence_of_abuse",
        Exact,
        "Có bằng chứng về xâm hại xảy ra với trẻ",
    ),
    (
        "vi",
        "next-step-no_further_support",
        Exact,
        "Không cần cung cấp thêm sự hỗ trợ/giúp đỡ",
    ),
    (
        "vi",
        "next-step-investigate_further",
        Exact,
        "Tiến hành điều tra thêm",
    ),
    (
        "vi",
        "next-step-refer_to_responsible_body",
        Exact,
        "Chuyển đến nơi có trách nhiệm xem xét",
    ),
    (
        "vi",
        "next-step-collect_evidence_and_intervene",
        Exact,
        "Thu thập thông tin, tìm bằng cớ về sự xâm hại",
    ),
    // 004 line 50 ("Bước 1: Tiếp nhận thông tin"), line 49 ("Xác minh và đánh giá",
    // "Lập kế hoạch can thiệp", "Kết thúc"), line 17 (Circular 01/2015 step 3 "Thực hiện
    // kế hoạch"), line 19 (step 4 "Theo dõi, rà soát"), line 59 (Bước 5 "Rà soát, đánh giá").
    ("vi", "stage-intake", Exact, "Tiếp nhận thông tin"),
    ("vi", "stage-assessment", Exact, "Xác minh và đánh giá"),
    ("vi", "stage-planning", Exact, "Lập kế hoạch can thiệp"),
    ("vi", "stage-implementation", Exact, "Thực hiện kế hoạch"),
    ("vi", "stage-monitoring", Exact, "Theo dõi"),
    ("vi", "stage-review", Exact, "Rà soát, đánh giá"),
    ("vi", "stage-closed", Exact, "Kết thúc"),
    // 004 line 60 (Mẫu 5: "KẾT THÚC CA", "YẾU TỐ NGUY CƠ MỚI", "YẾU TỐ HỖ TRỢ MỚI",
    // "LẬP KẾ HOẠCH CAN THIỆP MỚI").
    ("vi", "decision-close", Exact, "Kết thúc ca"),
    ("vi", "section-closures", Exact, "Kết thúc ca"),
    (
        "vi",
        "decision-new_plan",
        Exact,
        "Lập kế hoạch can thiệp mới",
    ),
    ("vi", "f-new-risk-factors", Exact, "Yếu tố nguy cơ mới"),
    ("vi", "f-new-supports", Exact, "Yếu tố hỗ trợ mới"),
    // 004 line 3 and 21: Thông tư 01/2015; line 45: "bảo vệ trẻ em".
    ("vi", "case-kind-disability", Holds, "Thông tư 01/2015"),
    ("vi", "case-kind-child_protection", Exact, "Bảo vệ trẻ em"),
    // 002 lines 47-100: "Диагностика (прием информации)", "Планирование", "Внедрение",
    // "Контроль", "Оценка".
    ("ru", "stage-intake", Holds, "приём информации"),
    ("ru", "stage-assessment", Exact, "Диагностика"),
    ("ru", "stage-planning", Exact, "Планирование"),
    ("ru", "stage-implementation", Exact, "Внедрение"),
    ("ru", "stage-monitoring", Exact, "Контроль"),
    ("ru", "stage-review", Exact, "Оценка"),
    // 002 lines 108 and 116: "мнения специалистов", "мнения членов семьи".
    ("ru", "f-specialist-opinions", Exact, "Мнения специалистов"),
    ("ru", "f-client-opinion", Holds, "членов семьи"),
    // 002 line 3: "семьи, попавшие в трудную жизненную ситуацию".
    (
        "ru",
        "case-kind-family_in_difficulty",
        Holds,
        "трудную жизненную ситуацию",
    ),
    // 003 line 11: "оцінку ситуації та потреб клієнта, ... планування заходів ...,
    // моніторинг та оцінювання результатів роботи" (the console names a stage in the
    // nominative: "Оцінка ситуації та потреб").
    ("uk", "stage-assessment", Holds, "ситуації та потреб"),
    ("uk", "stage-planning", Exact, "Планування"),
    ("uk", "stage-monitoring", Exact, "Моніторинг"),
    ("uk", "stage-review", Exact, "Оцінювання результатів"),
    // 003 lines 5 and 19: "ведення випадку"; line 15: "переадресацію клієнтів".
    ("uk", "intake-decision-accepted", Holds, "ведення випадку"),
    (
        "uk",
        "intake-decision-referred_elsewhere",
        Holds,
        "переадрес",
    ),
    (
        "uk",
        "closure-reason-referred_elsewhere",
        Holds,
        "переадрес",
    ),
    // 003 lines 21, 23, 25: the three criteria.
    (
        "uk",
        "f-multiple-problems",
        Holds,
        "більш ніж два проблемних запити",
    ),
    ("uk", "f-basic-needs-met", Holds, "нагальні базові потреби"),
    (
        "uk",
        "f-cannot-access-alone",
        Holds,
        "не може самостійно отримати доступ",
    ),
    // 003 line 17 "складній життєвій ситуації (СЖО)", line 43 "внутрішньо-переміщених
    // осіб", line 33 "учасників бойових дій", "правової допомоги" (the console's words
    // are these in the nominative: the rows pin the stems).
    (
        "uk",
        "case-kind-family_in_difficulty",
        Holds,
        "складній життєвій ситуації",
    ),
    ("uk", "case-kind-internally_displaced", Holds, "переміщен"),
    ("uk", "case-kind-veteran", Holds, "бойових дій"),
    ("uk", "case-kind-legal_aid", Holds, "правов"),
    // 000 line 20: "คัดกรองและประเมินปัญหาความต้องการจำเป็น ... วางแผน ... ให้บริการตามแผน
    // ติดตามประเมินผล".
    ("th", "stage-assessment", Exact, "ประเมินปัญหาความต้องการจำเป็น"),
    ("th", "stage-planning", Exact, "วางแผน"),
    ("th", "stage-implementation", Exact, "ให้บริการตามแผน"),
    ("th", "stage-monitoring", Exact, "ติดตาม"),
    ("th", "stage-review", Exact, "ประเมินผล"),
    ("th", "intake-decision-screened_out", Holds, "คัดกรอง"),
    // 000 line 1: "การจัดการรายกรณี"; line 4 on: "ผู้ใช้บริการ" (the client).
    ("th", "intake-decision-accepted", Holds, "การจัดการรายกรณี"),
    ("th", "closure-reason-client_declined", Holds, "ผู้ใช้บริการ"),
    ("th", "referral-declined_by_client", Holds, "ผู้ใช้บริการ"),
    // 000 line 24: "ความรุนแรงต่อเด็กและสตรี" (the console: "ความรุนแรงต่อสตรี");
    // line 18: "ไม่มีบริการ".
    ("th", "case-kind-violence_against_women", Holds, "สตรี"),
    ("th", "referral-unavailable", Exact, "ไม่มีบริการ"),
    // 000 line 8: the dimensions of life.
    ("th", "domain-housing", Exact, "ที่อยู่อาศัย"),
    ("th", "domain-recreation", Exact, "การพักผ่อนหย่อนใจ"),
    ("th", "domain-employment", Exact, "การมีงานทำ"),
    ("th", "domain-income", Holds, "รายได้และการใช้จ่าย"),
    ("th", "domain-education", Exact, "การศึกษา"),
    // 001 line 35: "ارزیابی، برنامه ریزی، اجرا، هماهنگی، نظارت و ارزیابی" (the last is
    // the evaluation of results); line 24 on: "مدیریت مورد".
    ("fa", "stage-assessment", Exact, "ارزیابی"),
    ("fa", "stage-planning", Exact, "برنامه ریزی"),
    ("fa", "stage-implementation", Exact, "اجرا"),
    ("fa", "stage-monitoring", Exact, "نظارت"),
    ("fa", "stage-review", Holds, "ارزیابی"),
    ("fa", "intake-decision-accepted", Holds, "مدیریت مورد"),
];

fn ftl(lang: &str) -> &'static str {
    match lang {
        "en" => include_str!("../../locales/en.ftl"),
        "vi" => include_str!("../../locales/vi.ftl"),
        "ru" => include_str!("../../locales/ru.ftl"),
        "uk" => include_str!("../../locales/uk.ftl"),
        "th" => include_str!("../../locales/th.ftl"),
        "fa" => include_str!("../../locales/fa.ftl"),
        other => panic!("no locale {other}"),
    }
}

/// The message `key` of a locale file, as written (a one-line message).
fn message(lang: &str, key: &str) -> Option<&'static str> {
    ftl(lang).lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(" = "))
            .map(str::trim)
    })
}

/// Lower case, Persian zero-width non-joiners as spaces, Russian ё as е (the seed writes
/// "прием", the console "приём").
fn folded(s: &str) -> String {
    s.to_lowercase().replace('\u{200c}', " ").replace('ё', "е")
}

#[test]
fn workflow_words_follow_the_seeds() {
    let mut wrong = Vec::new();
    for (lang, key, how, seed) in SEED_WORDS {
        let Some(m) = message(lang, key) else {
            wrong.push(format!("{lang} {key}: missing"));
            continue;
        };
        let ok = match how {
            Exact => folded(m) == folded(seed),
            Holds => folded(m).contains(&folded(seed)),
        };
        if !ok {
            wrong.push(format!("{lang} {key} = {m:?}, the seed says {seed:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The conclusions are conclusions, the same four in every language, and no language
/// calls one of them a level or a scale.
#[test]
fn every_language_names_each_conclusion_and_its_next_step() {
    for lang in ["en", "vi", "ru", "uk", "th", "fa"] {
        for code in fieldcase_core::schema::FINDINGS {
            assert!(
                message(lang, &format!("finding-{code}")).is_some(),
                "{lang} {code}"
            );
        }
        for code in fieldcase_core::schema::NEXT_STEPS {
            assert!(
                message(lang, &format!("next-step-{code}")).is_some(),
                "{lang} {code}"
            );
        }
        for code in fieldcase_core::schema::STAGES {
            assert!(
                message(lang, &format!("stage-{code}")).is_some(),
                "{lang} {code}"
            );
        }
    }
}
