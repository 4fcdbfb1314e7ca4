# fieldcase console: Ukrainian.
nav-label = Консоль
nav-dashboard = Навантаження
nav-approvals = Затвердження
nav-reports = Звіти
nav-admin = Користувачі й команди
language = Мова
language-switch = Змінити
sign-in = Увійти
sign-out = Вийти
login-intro = Консоль супервізора. Увійдіть зі своїм обліковим записом fieldcase.
username = Ім'я користувача
password = Пароль
login-error-wrong = Неправильне ім'я користувача або пароль.
login-error-expired = Форма входу застаріла. Спробуйте ще раз.
login-error-form = Форму входу заповнено не повністю.
login-error-blocked = Забагато невдалих спроб. Спробуйте пізніше.
role = Роль
role-worker = Фахівець
role-supervisor = Супервізор
role-admin = Адміністратор
error-bad-request = Цього не можна зробити
error-conflict = Випадок тим часом змінився
error-not-found = Не знайдено
error-forbidden = Немає доступу
error-unauthenticated = Увійдіть до системи
error-too-many = Забагато спроб
error-internal = Помилка на сервері
back-to-dashboard = До переліку випадків
someone = хтось
dashboard-title = Навантаження
cases = Випадки
cases-count = { $count ->
    [one] { $count } випадок
    [few] { $count } випадки
   *[other] { $count } випадків
}
cases-shown = { $count ->
    [one] Показано { $count } випадок
    [few] Показано { $count } випадки
   *[other] Показано { $count } випадків
}
conflicts-count = { $count ->
    [one] { $count } конфлікт
    [few] { $count } конфлікти
   *[other] { $count } конфліктів
}
changes-count = { $count ->
    [one] { $count } зміна в історії справи
    [few] { $count } зміни в історії справи
   *[other] { $count } змін в історії справи
}
activities-count = { $count ->
    [one] { $count } захід
    [few] { $count } заходи
   *[other] { $count } заходів
}
today = Сьогодні:
emergencies = Екстрені випадки
overdue-reviews = Прострочені перегляди
with-conflicts = Нерозв'язані конфлікти
review-due = перегляд
by-risk = Відкриті випадки за рівнем ризику
per-worker = Відкриті випадки за фахівцями та етапами
worker = Фахівець
total = Усього
search = Пошук
search-hint = Ім'я клієнта або члена родини
stage = Етап
risk = Ризик
show = Показати
all = Усі
apply = Застосувати
client = Клієнт
assigned = Призначені
next-review = Наступний перегляд
last-change = Остання зміна
recent-activity = Останні дії
none = Немає.
restricted = Обмежений доступ
emergency = Екстрений
risk-unknown = Не оцінено
stage-intake = Прийом
stage-assessment = Оцінка ситуації та потреб
stage-planning = Планування
stage-implementation = Виконання
stage-monitoring = Моніторинг
stage-review = Оцінювання результатів
stage-closed = Закрито
risk-no_evidence = Немає ознак шкоди
risk-insufficient_info = Недостатньо інформації
risk-concern = Є занепокоєння
risk-evidence_of_harm = Є ознаки шкоди
team = Команда
sections = Розділи справи
section-conflicts = Конфлікти
section-client = Клієнт і родина
section-intake = Прийом
section-assessments = Оцінювання
section-plan = План
section-referrals = Направлення
section-visits = Візити
section-appointments = Зустрічі
section-reviews = Перегляди
section-closures = Закриття
section-assignment = Призначення
no-conflicts = Жодне поле не містить паралельних значень.
conflicts-explain = Ці поля дві людини змінили по-різному, працюючи окремо. Обидва значення збережено; виберіть правильне. Ваш вибір записується як ваша зміна й потрапить на телефони під час наступної синхронізації.
conflict-see = конфлікт
shown-now = показано зараз
device = пристрій
choose-value = Залишити це значення
history = Історія
who = Хто
action = Дія
household = Родина
contacts = Контакти
consents = Згоди
yes = Так
no = Ні
yesno-true = Так
yesno-false = Ні
retracted = Відкликано
recorded-by = Записав(ла)
domain = Сфера життя
f-name = Ім'я
f-name-latin = Ім'я латиницею
f-client-kind = Клієнт
f-date-of-birth = Дата народження
f-birth-approximate = Дата народження приблизна
f-gender = Стать
f-languages = Мови
f-address = Адреса
f-vulnerabilities = Вразливості
f-notes = Нотатки
f-note = Нотатка
f-case-manager = Ведучий фахівець
f-priority = Пріоритет
f-relationship = Спорідненість
f-lives-with-client = Живе з клієнтом
f-kind = Вид
f-value = Значення
f-safe-to-contact = Безпечно зв'язуватися
f-topic = Предмет
f-given-by = Ким надано
f-granted = Надано
f-date = Дата
f-withdrawn-on = Відкликано
f-source = Джерело
f-reporter = Повідомив(ла)
f-reason = Причина
f-presenting-problems = Заявлені проблеми
f-urgency = Терміновість
f-preliminary-risk = Попередній ризик
f-safety-measures = Невідкладні заходи безпеки
f-multiple-problems = Більш ніж два проблемних запити, довгострокова робота за індивідуальним планом
f-basic-needs-met = Нагальні базові потреби задоволено
f-cannot-access-alone = Не може самостійно отримати доступ до необхідної послуги
f-conclusion = Висновок
f-capability = Можливості
f-summary = Підсумок
f-rating = Оцінка
f-needs = Потреби
f-strengths = Сильні сторони
f-family-agreed = Родина згодна з планом
f-approval = Затвердження супервізором
f-comment = Коментар
f-description = Опис
f-need = Потреба
f-goal = Мета
f-target-date = Строк
f-status = Статус
f-activity = Захід
f-responsible = Відповідальний
f-due-date = Строк
f-organisation = Організація
f-service = Послуга
f-status-reason = Чому
f-outcome = Результат
f-place = Місце
f-participants = Учасники
f-when = Коли
f-with-whom = З ким
f-purpose = Мета
f-attendance-needs = Що потрібно, щоб прийти
f-satisfaction = Задоволеність
f-decision = Рішення
f-reopen-reason = Причина повторного відкриття
kind-person = Особа
kind-family = Родина
visit-home = Візит додому
visit-phone = Дзвінок
visit-office = Зустріч в офісі
visit-other = Інший контакт
approval-none = Не запитано
approval-requested = Очікує затвердження
approval-approved = Затверджено
approval-returned = Повернуто
closure-requested = Запитано закриття
closure-approved = Затверджено
closure-returned = Повернуто
activity-planned = Заплановано
activity-in_progress = Виконується
activity-done = Виконано
activity-cancelled = Скасовано
referral-sent = Надіслано
referral-accepted = Прийнято
referral-declined = Відхилено
referral-completed = Виконано
referral-unavailable = Послуга недоступна
domain-housing = Житло
domain-income = Доходи й витрати
domain-employment = Зайнятість
domain-education = Освіта
domain-physical_health = Фізичне здоров'я
domain-mental_health = Психічне здоров'я
domain-family_relationships = Родинні та соціальні зв'язки
domain-safety = Безпека
domain-beliefs = Переконання й релігія
domain-recreation = Дозвілля
domain-self_care = Навички самообслуговування
domain-legal_status = Правовий статус
domain-community_resources = Ресурси громади
assign-to = Призначити
assign = Зберегти призначення
approvals-title = Затвердження
plans-waiting = Плани, що очікують затвердження
closures-waiting = Закриття, що очікують затвердження
requested-by = Запитав(ла)
comment = Коментар (потрібен для повернення)
approve = Затвердити
return = Повернути фахівцю
reports-title = Звіти
reports-scope = За всіма доступними вам випадками. Файли CSV містять номери справ, а не імена.
report-gaps = Прогалини в послугах: відхилені або недоступні направлення
report-needs = Незадоволені потреби за сферами життя
report-caseload = Статистика навантаження
report-closed = Результати закритих випадків
export-csv = Вивантажити в CSV
col-referrals = Направлення
col-with-need = Випадки з потребою
col-without-plan = Без плану щодо неї
col-referral-refused = Направлення відхилено або недоступне
col-open = Відкрито
col-concern = Занепокоєння й вище
col-closed = Закрито
col-case = Справа
col-closed-on = Дата закриття
col-reopened = Відкрито повторно
admin-title = Користувачі й команди
teams = Команди
team-name = Назва команди
add-team = Додати команду
users = Користувачі
add-user = Додати користувача
disable = Вимкнути
disabled = Вимкнено
history-kept = залишено показане значення, решту вилучено
closure-reason-goals_achieved = Мети досягнуто
closure-reason-risk_resolved = Ризик усунуто
closure-reason-client_declined = Клієнт відмовився від допомоги
closure-reason-moved_away = Переїзд
closure-reason-transferred = Передано
closure-reason-deceased = Смерть
closure-reason-other = Інше
audit-trail = Журнал доступу до випадків з обмеженим доступом
audit-explain = Хто й коли читав або синхронізував випадок з обмеженим доступом (останні 50).
act-approve-closure = затвердив(ла) закриття
act-approve-plan = затвердив(ла) план
act-assign = призначив(ла) випадок
act-create-case = відкрив(ла) випадок
act-record-family-agreement = записав(ла) згоду родини
act-record-intake = записав(ла) прийом
act-reopen-case = повторно відкрив(ла) випадок
act-request-closure = запитав(ла) закриття
act-request-plan-approval = запитав(ла) затвердження плану
act-retract = відкликав(ла) запис
act-return-closure = повернув(ла) запит на закриття
act-return-plan = повернув(ла) план
act-set-activity-status = змінив(ла) статус заходу
act-set-appointment-status = змінив(ла) статус зустрічі
act-set-next-review = призначив(ла) наступний перегляд
act-set-referral-status = змінив(ла) статус направлення
act-set-sensitivity = змінив(ла) рівень доступу
act-update-client = оновив(ла) дані клієнта
act-update-problem = оновив(ла) проблему
act-withdraw-consent = записав(ла) відкликання згоди
act-add = додав(ла)
act-set = встановив(ла)
act-edit = відредагував(ла)
act-stage = змінив(ла) етап
new-password = Новий пароль
set-password = Задати пароль

# Поля та коди справи
f-created-at = Справу відкрито
f-created-by = Ким відкрито
f-sensitivity = Конфіденційність
f-reporter-contact = Контакт того, хто повідомив
f-criteria-note = Про критерії
f-scope = Обсяг
f-withdrawn-reason = Чому відкликано
f-sources = Джерела
f-resources = Ресурси
f-frequency = Як часто
f-agreement-date = Дата згоди
f-agreement-by = Хто погодився
f-agreement-note = Про згоду
f-duration = Тривалість (хвилини)
f-satisfaction-note = Про задоволеність
f-progress = Поступ за цілями
sensitivity-normal = Звичайна
sensitivity-restricted = Обмежений доступ
gender-female = Жіноча
gender-male = Чоловіча
gender-other = Інша
gender-undisclosed = Не вказано
priority-low = Низький
priority-normal = Звичайний
priority-high = Високий
priority-urgent = Терміновий
urgency-routine = У звичайному порядку
urgency-urgent = Терміново
urgency-emergency = Екстрено
topic-information_sharing = Передавання відомостей
topic-plan = План
topic-referral = Направлення
topic-photo = Фотографії
topic-other = Інше
contact-phone = Телефон
contact-email = Ел. пошта
contact-messenger = Месенджер
contact-address = Адреса
contact-other = Інше
problem-open = Відкрита
problem-in_progress = У роботі
problem-achieved = Досягнуто
problem-not_achieved = Не досягнуто
problem-dropped = Знято
decision-continue = Продовжити план
decision-new_plan = Скласти новий план
decision-close = Закрити справу
responsible-case_manager = Провідний фахівець
responsible-worker = Соціальний працівник
responsible-partner = Організація-партнер
responsible-client = Клієнт
responsible-family = Сім'я
responsible-other = Інше
source-self = Сам клієнт
source-family = Сім'я
source-neighbour = Сусіди
source-school = Школа
source-health = Медична служба
source-police = Поліція
source-court = Суд
source-ngo = ГО
source-local_authority = Місцева влада
source-hotline = Гаряча лінія
source-community = Громада
source-other = Інше
appointment-planned = Призначено
appointment-kept = Відбулася
appointment-missed = Пропущено
appointment-rescheduled = Перенесено
vuln-domestic_violence = Домашнє насильство
vuln-sexual_violence = Сексуальне насильство
vuln-child_at_risk = Дитина в небезпеці
vuln-orphan_or_abandoned = Сирота або покинута дитина
vuln-disability = Інвалідність
vuln-toxic_chemical_victim = Постраждалий від токсичних речовин
vuln-hiv_aids = ВІЛ/СНІД
vuln-hazardous_labour = Небезпечна праця
vuln-working_far_from_home = Робота далеко від дому
vuln-street_child = Безпритульна дитина
vuln-sexually_abused = Постраждалий від сексуального насильства
vuln-drug_use = Вживання наркотиків
vuln-in_conflict_with_law = У конфлікті із законом
vuln-internally_displaced = Внутрішньо переміщена особа
vuln-veteran = Ветеран
vuln-elderly = Літня людина
vuln-family_in_difficulty = Сім'я у складних обставинах
vuln-other = Інше
time-claimed = час на пристрої
time-claimed-explain = Пристрій, що вніс цю зміну, вказав час, далекий від моменту її отримання сервером; показано час отримання.
enable = Увімкнути
devices = Пристрої
devices-explain = Телефони кожного користувача: відкличте загублений; під час наступного з'єднання його буде очищено, а користувач продовжить роботу з іншого.
registered = Зареєстровано
last-seen = Востаннє
revoked = відкликано
revoke = Відкликати
admin-log = Адміністративні дії
admin-target = Об'єкт
account = Мій обліковий запис
change-password = Змінити мій пароль
current-password = Поточний пароль
nav-people = Працівники
people-title = Працівники
people-explain = Люди, за яких ви відповідаєте (супервізор — своя команда, адміністратор — усі), їхні відкриті випадки й телефони. Відкрийте працівника, щоб відкликати загублений телефон, передати випадки або змінити роль і команду.
open-cases = Відкриті випадки
phone = Телефон
open-sessions = Сеанси
open-cases-count = { $count ->
    [one] { $count } відкритий випадок
    [few] { $count } відкриті випадки
   *[other] { $count } відкритих випадків
}
handover-title = Передати випадки
handover-nothing = Немає відкритих випадків для передачі.
handover-no-colleagues = У цій команді немає активного колеги, який міг би прийняти випадки: спершу додайте або увімкніть його.
handover-explain = Кожен відкритий випадок працівника { $name } по черзі переходить позначеним колегам. Їхні телефони отримають випадки під час наступної синхронізації; телефони працівника { $name } передадуть останні зміни й видалять випадки.
handover-to = Кому
handover-proposed = (запропоновано тих, у кого найменше випадків)
caseload-now = зараз { $count }
caseload-after = після { $count }
hand-over = Передати
move-title = Роль і команда
move-explain = Працівник, який переходить до іншої команди, спершу передає свої відкриті випадки; останній активний адміністратор лишається адміністратором.
move-save = Зберегти роль і команду
value-cleared = (очищено)
summary-title = Коротко
summary-due = Терміни й прострочення
summary-referrals = Відкриті направлення
summary-visits = Останні візити
overdue = Прострочено
show-empty-fields = Показати порожні поля
age-years = { $count ->
    [one] { $count } рік
    [few] { $count } роки
   *[other] { $count } років
}
section-timeline = Перебіг випадку
report-period = Період
period-from = З
period-to = По
period-show = Показати
export-xlsx = Експорт XLSX
report-months = Відкриті й закриті випадки за місяцями
report-gender = Клієнти за період за статтю
report-age = Клієнти за період за віком
report-stage = Випадки за період за етапами
report-referral-outcomes = Направлення за період за результатом
report-time-to-close = Час від відкриття до закриття
col-opened = Відкрито
col-cases = Випадки
col-closures = Закриття
col-median-days = Медіана, днів
col-longest-days = Найдовше, днів
col-month = Місяць
col-group = Група
age-unknown = Вік невідомий
age-0-5 = 0–5
age-6-11 = 6–11
age-12-17 = 12–17
age-18-59 = 18–59
age-60-plus = 60+
gender-unknown = —
team-key = Ключ команди
team-new-label = Нова назва
team-rename = Перейменувати
unsynced-col = Несинхронізоване
unsynced-none = немає після останньої синхронізації
unsynced-after = { $count ->
    [one] { $count } випадок не синхронізовано
    [few] { $count } випадки не синхронізовано
   *[other] { $count } випадків не синхронізовано
}
unsynced-cut = до { $count } не синхронізовано: остання синхронізація не завершилася
unsynced-unknown = немає відомостей
refusal-foreign_actor = Ці зміни зроблено на іншому пристрої, не на тому, що їх надіслав.
refusal-attribution = Ці зміни вказують автором іншу людину або переписують, хто і коли що зробив.
refusal-invalid_document = Справа перестала б відповідати своїй формі.
refusal-needs_authority = Для цього потрібен супервізор.
refusal-wrong_case = Документ — не той випадок, яким його надіслано.
refusal-assignment = Випадок призначають лише активним працівникам і супервізорам його команди, і хоча б одному.
refusal-team = Такої команди немає, або ви не можете передати туди випадок.
refusal-unapplicable = Зміни не вдалося застосувати до випадку.
refusal-limit = Досягнуто межі.
refusal-departure = Цей пристрій зараз не може здати зміни щодо цього випадку.
refusal-other = Зміни відхилено.

## The case process (issue 15): conclusions, next steps, kinds of case, intake decisions, closing.
finding-no_evidence_of_abuse = Немає доказів жорстокого поводження з дитиною
finding-insufficient_information = Недостатньо інформації для висновку
finding-other_family_problems = Є свідчення інших проблем у сім'ї
finding-evidence_of_abuse = Є докази жорстокого поводження з дитиною
next-step-no_further_support = Додаткова допомога не потрібна
next-step-investigate_further = Провести додаткову перевірку
next-step-refer_to_responsible_body = Передати до відповідального органу
next-step-collect_evidence_and_intervene = Зібрати інформацію, шукати докази жорстокого поводження
case-kind-child_protection = Захист дитини
case-kind-disability = Інвалідність (Циркуляр 01/2015)
case-kind-violence_against_women = Насильство щодо жінок
case-kind-family_in_difficulty = Сім'я у складній життєвій ситуації
case-kind-internally_displaced = Внутрішньо переміщена особа
case-kind-veteran = Учасник бойових дій
case-kind-legal_aid = Правова допомога
case-kind-other = Інше
intake-decision-accepted = Прийнято на ведення випадку
intake-decision-screened_out = Не прийнято
intake-decision-referred_elsewhere = Переадресовано до іншої організації
informed-how-in_person = Особисто
informed-how-home_visit = Під час відвідування вдома
informed-how-phone = Телефоном
informed-how-letter = Листом
informed-how-other = Інше
closure-reason-no_further_support_needed = Додаткова допомога не потрібна
closure-reason-screened_out = Не прийнято на етапі прийому
closure-reason-referred_elsewhere = Переадресовано до іншої організації
referral-declined_by_client = Клієнт відмовився
referral-declined_by_organisation = Організація відмовила
by-finding = Відкриті випадки захисту дитини за висновком
by-kind = Відкриті випадки за видом
kind-not-set = Вид не вказано
next-steps-waiting = Наступні кроки, що чекають
earlier-scale = попередня шкала: потрібен новий висновок
earlier-scale-explain = Записано за шкалою ризику попередньої версії, якої немає у вихідних матеріалах: запишіть висновок.
f-case-kind = Вид випадку
f-finding = Висновок
f-earlier-risk = Ризик (попередня шкала)
f-next-step = Наступний крок
f-next-step-due = Строк наступного кроку
f-next-step-done = Наступний крок виконано
f-preliminary-finding = Попередній висновок
f-referring-organisation = Організація, що направила
f-safety-secured = Безпеку забезпечено
f-intake-decision = Рішення при прийомі
f-decision-reason = Причина рішення
f-referred-to = Куди перенаправлено
f-new-risk-factors = Нові чинники ризику
f-new-supports = Нові ресурси підтримки
f-client-opinion = Думка клієнта або сім'ї
f-specialist-opinions = Думки фахівців
f-stage-at-request = Етап під час запиту закриття
f-informed = Клієнта або сім'ю повідомлено
f-informed-on = Дата повідомлення
f-informed-how = Як повідомлено
f-informed-note = Примітка про повідомлення
act-decide-intake = ухвалив(ла) рішення при прийомі
act-secure-safety = записав(ла), що безпеку забезпечено
act-record-informed = записав(ла), що сім'ю повідомлено
act-complete-next-step = виконав(ла) наступний крок
plan-draft-of = Чернетка: зміни затвердженої версії { $version }, потрібне затвердження
change-added = додано
change-removed = вилучено
authority-decision = Рішення зовнішнього органу (якщо він вирішував)
f-authority = Орган
f-decision-number = Номер рішення
f-decision-date = Дата рішення
plan-versions = Затверджені версії
plan-version = Версія { $version }
plan-approved-unversioned = Затверджено до того, як версії почали зберігатися: затверджене видно в історії випадку.
not-told = Не повідомлено
not-yet-told = Клієнта або сім'ю ще не повідомлено: запишіть це до затвердження.
f-domain = Сфера життя
overdue-steps = Прострочені кроки
agenda-appointment = зустріч
agenda-activity = захід
agenda-follow_up = справа після візиту
agenda-review = перегляд
agenda-investigation = додаткова перевірка
agenda-safety = заходи безпеки
agenda-assessment = перше оцінювання
agenda-plan = затверджений план
agenda-referral_answer = відповідь партнера
section-safety = Безпека
contact-not-safe = Небезпечно зв'язуватися: не для нагадувань, не друкується
f-perpetrator-relationship = Імовірний кривдник: ким доводиться клієнту
f-perpetrator-lives-with-client = Імовірний кривдник живе з клієнтом
f-protection-order = Обмежувальний припис
f-protection-order-note = Про обмежувальний припис
f-warning-signs = Тривожні ознаки
f-safe-contacts = Безпечні контакти
f-safe-places = Безпечні місця
f-what-to-do = Що робити
f-reviewed-on = План безпеки переглянуто
protection-order-none = Немає
protection-order-applied_for = Подано заяву
protection-order-in_force = Діє
protection-order-expired = Сплив
act-record-safety = записав(ла) план безпеки
record-decision = Записати рішення
act-record-plan-decision = записав(ла) рішення органу щодо плану
f-ready-to-talk = Готова говорити про те, що сталося
f-problems-to-work-on = Проблеми, з якими працюватимуть служби
f-unrecognised-problems = Проблеми, які сім'я не усвідомлює як проблему
f-recommendations = Рекомендації залученим службам
f-legal-question = Правове питання
f-action-steps = Алгоритм дій клієнта (з чого слід починати)
f-expected-result = Що має бути в результаті
f-lawyer-needed = Потрібно, щоб адвокат або представник центру вступив у справу
deadlines = Строки
deadlines-note = Через скільки днів від початкової точки має бути виконано кожен крок, за командами. Строки задаються у файлі конфігурації сервера ([deadlines], [team_deadlines.<команда>]) і надходять на телефони під час синхронізації; тут лише перегляд.
deadline-step = Крок
deadline-from = Відлік від
from-intake = дати прийому
from-referral = дати направлення
from-approval = затвердження плану
review-otherwise = оцінювання, інші випадки
days-count = { $count ->
    [one] { $count } день
    [few] { $count } дні
   *[other] { $count } днів
}

# The partner directory (issue 16)
nav-directory = Довідник
directory = Довідник організацій-партнерів
directory-search = Послуга, організація або громада
directory-domain = Сфера життя
directory-area = Громада чи район
directory-age = Вік
directory-include-inactive = Разом із неактивними послугами
directory-empty = Довідник ще не завантажено.
directory-none = Немає відповідних послуг.
directory-service = Послуга
directory-organization = Організація
directory-status = Статус
directory-description = Опис
directory-genders = Для кого
directory-eligibility = Хто може звернутися
directory-contact = Контактна особа
directory-location = Місце надання
directory-edit = Змінити статус і телефони
directory-phones = Телефони (по одному в рядку)
directory-save = Зберегти
service-status-active = Працює
service-status-inactive = Не працює
service-status-defunct = Припинила роботу
service-status-temporarily-closed = Тимчасово зачинена

# Printed forms and letters (console/print.rs)
print-printed = Надруковано
print-with-restricted = містить відомості, які зазвичай не друкуються (відомості обмеженого доступу, небезпечні контакти)
print-forms = Друк
letter-closure-title = Вашу справу закрито
letter-closure-greeting = Шановний(а) { $name },
letter-closure-body = Повідомляємо, що роботу за вашою справою завершено { $date }.
letter-closure-reason = Причина:
letter-closure-again = Якщо ваша ситуація зміниться або вам знову знадобиться допомога, ви можете звернутися до нас будь-коли.
letter-closure-to = Кому
f-safety-secured-at = Безпеку забезпечено
f-safety-secured-by = Безпеку забезпечив(ла)
f-decided-at = Дата рішення
f-decided-by = Рішення ухвалив(ла)
f-requested-at = Дата запиту
f-requested-by = Запитав(ла)
f-recorded-at = Дата запису
f-reopened-at = Дата повторного відкриття
f-reopened-by = Повторно відкрив(ла)
f-number = Номер
f-agreed = Згода
f-done = Виконано
f-level = Рівень
f-label = Позначка
f-text = Текст
section-viewed = Хто переглядав справу
viewed-explain = Кожне звернення до справи (сторінки консолі, друк, синхронізація з телефонами, читання через API), спочатку останні; увесь журнал пов'язаний ланцюжком і перевіряється командою fieldcase-server audit --verify.
viewed-device = Пристрій
viewed-what = Що
f-by = Хто
name-hidden = Справа з обмеженим доступом: ім'я клієнта показано ініціалами.
name-show = Показати ім'я (це записується)

# The referral loop (issue 16)
referral-received = Отримано
referral-service_started = Послугу розпочато
referral-delivered = Послугу надано
f-feedback = Відгук партнера
f-shares-information = Передає відомості про клієнта
referral-steps = Кроки
f-directory-service = У довіднику партнерів
f-consent = Згода
report-referrals = Результати направлень за організаціями та послугами
col-sent = Надіслано
col-reasons = Названі причини
col-days-to-answer = Медіана днів до відповіді
col-days-to-deliver = Медіана днів до надання послуги

# A partner answers through a link (issue 16, ADR 0006)
link-made = Посилання для партнера
link-made-explain = Надішліть це посилання організації-партнеру безпечним каналом. Воно показується лише зараз і відкриває сторінку направлення, доки не спливе його строк або його не відкличуть.
link-expires = Діє до
section-links = Посилання для партнера
link-revoked = Відкликано
link-expired = Строк минув
link-revoke = Відкликати
link-language = Мова партнера
link-make = Створити посилання для партнера
partner-title = Направлення
partner-too-many = Забагато запитів через це посилання за останню годину. Спробуйте пізніше.
partner-failed = Сторінку не вдалося показати. Спробуйте пізніше.
partner-invalid = Це посилання недійсне: його строк минув або його відкликано. Попросіть нове в соціального працівника, який його надіслав.
partner-answered = Вашу відповідь записано. Дякуємо.
partner-intro = Соціальний працівник направив клієнта до вашої організації. Будь ласка, повідомте, чим завершилося направлення.
partner-from = Направив(ла)
partner-client = Клієнт
partner-not-shared = Відомості про клієнта через це посилання не передаються.
partner-ended = Це направлення завершено; більше нічого не потрібно.
partner-answer = Ваша відповідь
partner-reason = Причина (якщо ви відмовляєте або послуга недоступна)
partner-send = Надіслати відповідь
partner-refused = Відповідь не вдалося записати.

# The referral letter (issues 16 and 17)
letter-referral-title = Направлення
letter-referral-to = Кому
letter-referral-intro = Ми направляємо зазначеного нижче клієнта до вашої служби з причини, наведеної вище, і просимо повідомити нам, чи приймаєте ви направлення, а згодом — чим воно завершилося.
letter-referral-consent = Клієнт { $date } погодився на це направлення і на передачу вам цих відомостей.
letter-referral-reply = Будь ласка, дайте відповідь соціальному працівникові, який підписав це направлення.
col-terms = Терміни класифікатора
col-active-services = Чинні послуги в довіднику
directory-name = Назва
directory-min-age = З віку
directory-max-age = До віку
directory-areas = Території обслуговування (по одній у рядку)
directory-languages = Мови надання послуги (коди, напр. uk, ru)
print-whole-file = Уся справа
export-json = Власні дані клієнта (JSON)
duplicates-title = Можливі дублікати
duplicates-intro = Справи, клієнти яких можуть бути однією людиною; знайдені, коли справа надійшла. Справу іншої команди показано лише командою: зверніться до її керівника.
duplicates-open = Відкриті
match-likely = ймовірно
match-possible = можливо
match-reasons = Чому
match-found = Знайдено
match-dismiss = Це різні люди (відхилити)
match-elsewhere = справа в команді { $team }; зверніться до її керівника
match-same-name = { $transliterated ->
    [yes] те саме ім'я після транслітерації
   *[no] те саме ім'я
}
match-same-consonants = ті самі приголосні (перське письмо й латиниця)
match-name-differs = { $transliterated ->
    [yes] { $letters ->
        [one] ім'я відрізняється на { $letters } літеру після транслітерації
        [few] ім'я відрізняється на { $letters } літери після транслітерації
       *[other] ім'я відрізняється на { $letters } літер після транслітерації
    }
   *[no] { $letters ->
        [one] ім'я відрізняється на { $letters } літеру
        [few] ім'я відрізняється на { $letters } літери
       *[other] ім'я відрізняється на { $letters } літер
    }
}
match-order-swapped = інший порядок частин імені
match-part-missing = { $parts ->
    [one] бракує { $parts } частини імені
   *[other] бракує { $parts } частин імені
}
match-same-dob = та сама дата народження
match-dob-window = { $years ->
    [0] приблизні дати народження в тому самому році
    [one] приблизні дати народження з різницею { $years } рік
    [few] приблизні дати народження з різницею { $years } роки
   *[other] приблизні дати народження з різницею { $years } років
}
match-dob-nearly = дата народження відрізняється однією цифрою або день і місяць переставлено
match-dob-differs = дати народження різні
match-gender-differs = стать різна
match-same-phone = той самий номер телефону
match-household = { $count ->
    [one] { $count } член родини з тим самим ім'ям
    [few] { $count } члени родини з тими самими іменами
   *[other] { $count } членів родини з тими самими іменами
}

# Erasure and retention (issue 18)
erasure-link = Видалені справи, запити на видалення і строки зберігання
erasure-title = Видалення і строки зберігання
erasure-explain = Видалення справи знищує її ключ: нічого з неї більше не можна прочитати ні на сервері, ні в резервних копіях, відновлених після цього, ні на телефонах, які видаляють її під час наступної синхронізації. Залишаються номер справи, її команда, коли, ким і чому її видалено.
erasure-requests = Запити на видалення
erasure-none-waiting = Запитів немає.
erasure-case = Справа
erasure-requested-by = Хто запросив
erasure-reason = Причина
erasure-decision = Рішення
erasure-decision-erased = видалено
erasure-decision-refused = відмовлено
erasure-waiting = чекає на адміністратора
erasure-erase = Видалити назавжди
erasure-refuse = Відмовити
erasure-erased = Видалені справи
erasure-erased-none = Жодну справу не видалено.
erasure-erased-by = Ким видалено
erasure-by-cli = командний рядок
erasure-by-retention = строк зберігання
erasure-retention = Закриті справи, строк зберігання яких минув
erasure-retention-none = Немає закритих справ, строк зберігання яких минув.
erasure-closed-on = Закрито
erasure-due = Строк зберігання минув
erasure-action-erase = сервер видалить її
erasure-action-list = чекає на рішення
erasure-ask = Видалити цю справу
erasure-ask-explain = Попросіть адміністратора видалити цю справу назавжди. Її ключ буде знищено: нічого з неї більше не можна буде прочитати. Причина зберігається; не називайте в ній клієнта.
erasure-ask-button = Запросити видалення
# Attachments (issue 17)
section-attachments = Документи та фотографії
attachment-photo = Фотографія
attachment-document = Документ
attachment-signature = Підпис
attachment-audio = Аудіозапис
attachment-not-here = Ще не на сервері: поки на телефоні, з якого додано.
attachment-open = Відкрити
attachment-about = Стосується
attachment-none = Документів не додано.
f-caption = Опис файлу
kilobytes = { $n } КБ
section-consents = Згоди
f-hash = SHA-256 файлу
f-size = Розмір у байтах
f-media-type = Тип файлу
f-about = Стосується

# Supervision on the record (revision 4) and duplicates confirmed
section-supervision = Супервізія
supervision-none = Немає записів про кейс-конференції, розбори чи розбіжності.
supervision-case_conference = Кейс-конференція
supervision-supervisor_review = Розбір ведення випадку керівником
supervision-self_review = Самоаналіз ведення випадку фахівцем
supervision-disagreement = Розбіжність між фахівцями
supervision-add = Записати супервізію
supervision-record = Записати
supervision-explain = Розбір відповідає: що помічено і чому випадок зрозуміли та вирішили саме так; що вдалося; чого навчилися; що робити інакше. Конференція — хто брав участь і що вирішили; розбіжність — позиції сторін і як її розв'язано.
one-per-line = по одному в рядку
f-observed = Що помічено або обговорено
f-went-well = Що вдалося
f-learning = Чого навчилися
f-changes = Що робити інакше
f-decisions = Рішення
f-positions = Позиції сторін
f-resolution = Як розв'язано
f-duplicate-of = Дублікат справи
closure-reason-duplicate = Дублікат іншої справи того самого клієнта
act-close-as-duplicate = закрив(ла) справу як дублікат
match-confirm = Одна людина: залишити { $keep }, закрити { $close } як дублікат
match-confirm-both = Підтвердити, що це одна людина, може лише керівник, який бачить обидві справи.
time-zone = Часовий пояс
time-zone-now = Час на цих сторінках показано за поясом { $zone }.
time-zone-team = Пояс моєї команди ({ $zone })
save = Зберегти

# Problems with input, by code (the API answers the same codes for apps to translate)
problem-invalid-field = Це значення не прийнято: { $path }.
problem-invalid-transition = Зараз справу не можна перевести з «{ $from }» до «{ $to }».
problem-body-too-large = Запит більший, ніж приймає сервер ({ $max_bytes } байтів).
problem-body-not-json = Запит не вдалося прочитати.
problem-body-not-json-type = Запит надіслано не у форматі JSON.
problem-form-unreadable = Форму не вдалося прочитати, або не заповнено поле.
problem-form-too-large = Форма більша, ніж приймає сервер.
problem-no-such-language = Такої мови немає.
problem-no-such-time-zone = Такого часового поясу немає.
problem-period-invalid = Виберіть період із двох дат, перша раніше за другу, не довше { $max_months } міс.
problem-no-such-supervision-kind = Виберіть, що записується: кейс-конференція, розбір чи розбіжність.
problem-value-unreadable = Вибране значення не вдалося прочитати; відкрийте справу знову.
problem-team-name-invalid = Назва команди — від 1 до { $max ->
    [one] { $max } символу
   *[other] { $max } символів
}.
problem-team-name-taken = Команда «{ $team }» уже є: виберіть іншу назву.
problem-no-such-team = Команди «{ $team }» немає.
problem-team-needed = Фахівці та супервізори належать до команди: виберіть її.
problem-no-such-role = Виберіть роль: фахівець, супервізор або адміністратор.
problem-username-invalid = Ім'я користувача — від 1 до { $max ->
    [one] { $max } символу
   *[other] { $max } символів
}: літери, цифри, крапки, дефіси, підкреслення або @.
problem-username-reserved = Імена користувачів, що починаються з «{ $prefix }», відведено для посилань партнерів: виберіть інше.
problem-username-taken = Ім'я користувача «{ $username }» уже зайняте: виберіть інше.
problem-password-too-short = Пароль має містити щонайменше { $min ->
    [one] { $min } символ
    [few] { $min } символи
   *[other] { $min } символів
}.
problem-password-too-long = Пароль має містити не більше { $max ->
    [one] { $max } символу
   *[other] { $max } символів
}.
problem-password-too-easy = Цей пароль надто легко вгадати (поширений пароль, повтори чи послідовності, ім'я користувача): виберіть довшу фразу з не пов'язаних між собою слів.
problem-current-password-wrong = Поточний пароль неправильний.
problem-partner-link-not-account = Це посилання організації-партнера, а не обліковий запис працівника: воно не має пароля, і його не можна ввімкнути знову.
problem-disable-self = Не можна вимкнути власний обліковий запис: попросіть іншого адміністратора.
problem-last-admin = Це останній активний адміністратор: спершу призначте адміністратором когось іншого.
problem-cases-assigned = { $count ->
    [one] За цим працівником закріплено { $count } випадок: спершу передайте його.
    [few] За цим працівником закріплено { $count } випадки: спершу передайте їх.
   *[other] За цим працівником закріплено { $count } випадків: спершу передайте їх.
}
problem-handover-from-admin = Адміністратор не має випадків для передачі.
problem-handover-to-self = Випадки передають колегам, а не тому самому фахівцю.
problem-handover-no-colleague = Позначте принаймні одного колегу, якому передати випадки.
problem-handover-too-many = Випадки можна передати щонайбільше { $max } колегам.
problem-handover-restricted = { $count ->
    [one] { $count } з цих випадків має обмежений доступ і прихований від вас: його передає супервізор команди.
   *[other] { $count } з цих випадків мають обмежений доступ і приховані від вас: їх передає супервізор команди.
}
problem-no-such-device = Сервер не знає цього пристрою.
problem-device-name-invalid = Назва пристрою — від 1 до { $max ->
    [one] { $max } символу
   *[other] { $max } символів
}.
problem-actor-elsewhere = Цю установку застосунку вже зареєстровано на іншому пристрої.
problem-directory-invalid = Довідник не збережено: у ньому { $count ->
    [one] { $count } помилка
    [few] { $count } помилки
   *[other] { $count } помилок
}.
problem-directory-too-large = Довідник більший, ніж зберігає сервер ({ $max_bytes } байтів).
problem-directory-changed = Довідник тим часом змінився: відкрийте його знову й внесіть зміну ще раз.
problem-field-too-long = Поле довше, ніж приймає форма ({ $max_bytes } байтів).
problem-service-needs-name = Служба повинна мати назву.
problem-age-invalid = Вік — ціле число років, від 0 до { $max }.
problem-reason-invalid = Причина — один рядок довжиною від 1 до { $max ->
    [one] { $max } символу
   *[other] { $max } символів
}.
problem-erased-already = Цю справу вже видалено.
problem-erasure-asked-already = Видалення цієї справи вже запитано, і воно чекає на рішення адміністратора.
problem-retention-days-invalid = Строк зберігання — від { $min } до { $max ->
    [one] { $max } дня
   *[other] { $max } днів
}.
problem-return-needs-comment = Щоб повернути фахівцю, напишіть коментар: що треба змінити.
problem-comment-too-long = Коментар довший за { $max ->
    [one] { $max } символ
    [few] { $max } символи
   *[other] { $max } символів
}.
problem-authority-too-long = Назва органу або номер його рішення задовгі.
problem-referral-ended = Роботу за цим направленням завершено: створіть нове направлення.
problem-answer-not-now = Зараз направлення не може прийняти таку відповідь; оновіть сторінку.
problem-answer-too-long = Відповідь довша за { $max ->
    [one] { $max } символ
    [few] { $max } символи
   *[other] { $max } символів
}.
problem-link-revoked-already = Це посилання вже відкликано.
problem-closure-not-approved = Закриття цієї справи не затверджено супервізором: листа для друку немає.
problem-filters-unreadable = Фільтри не вдалося прочитати; виберіть їх знову.
retention-keep-days = Зберігати ще (днів)
retention-keep = Залишити
retention-erase-now = Видалити зараз

# Related cases, both ways (issue 19)
section-related = Пов'язані справи
related-client = Клієнт
related-how = Зв'язок
related-listed-here = у родині цього клієнта
related-lists-this-client = зазначає цього клієнта у своїй родині
related-continues-in = цю справу закрито як її дублікат; робота триває там
related-duplicate-here = закрито як дублікат цієї справи; робота триває тут
related-elsewhere = пов'язана справа в команді { $team }; зверніться до її керівника
related-not-visible = справа, якої ви не бачите
f-own-case = Власна справа
f-case-relation = Ким доводиться клієнту
caserel-sibling = Брат або сестра
caserel-parent = Батько або мати
caserel-child = Дитина
caserel-relative = Родич
caserel-household = Член домогосподарства

# Reports by kind of case, risk conclusion and vulnerability (issue 21)
report-case-kind = Випадки за період за видом випадку
report-conclusion = Випадки за період за висновком щодо небезпеки
report-vulnerability = Клієнти за період за вразливістю (клієнта з кількома враховано в кожній)
col-clients = Клієнти
case-kind-unknown = —
finding-unknown = Висновку ще немає
vuln-none = Не вказано
report-time-to-steps = Час від відкриття до кожного кроку (кроки, уперше досягнуті за період)
step-assessment = Перше оцінювання
step-plan = Перший затверджений план
step-review = Перший перегляд
step-closure = Закриття

## Території (issue 21)
f-area = Територія
areas = Території
areas-intro = Території, де працює організація (громади, райони). У випадку зберігається лише код, тож нова назва території видна всюди; код ніколи не вилучається.
area-code = Код
area-name = Назва
add-area = Додати або перейменувати
area-set = Вказати територію
area-not-recorded = Територію не вказано
area-unknown = Немає в переліку територій: { $code }
areas-none = Територій ще немає: їх додає адміністратор.
report-area = Випадки періоду за територією клієнта
problem-area-code-invalid = Код території — від 1 до { $max ->
    [one] { $max } символу
   *[other] { $max } символів
} (літери, цифри, «-», «_» або «.»).
problem-area-name-invalid = Назва території — від 1 до { $max ->
    [one] { $max } символу
   *[other] { $max } символів
}.
problem-no-such-area = Території з кодом «{ $area }» немає.
problem-too-many-areas = Сервер зберігає не більше { $max ->
    [one] { $max } території
   *[other] { $max } територій
}.
