# fieldcase console: Russian.
nav-label = Консоль
nav-dashboard = Нагрузка
nav-approvals = Утверждение
nav-reports = Отчёты
nav-admin = Пользователи и команды
language = Язык
language-switch = Сменить
sign-in = Войти
sign-out = Выйти
login-intro = Консоль супервизора. Войдите со своей учётной записью fieldcase.
username = Имя пользователя
password = Пароль
login-error-wrong = Неверное имя пользователя или пароль.
login-error-expired = Форма входа устарела. Попробуйте ещё раз.
login-error-form = Форма входа заполнена не полностью.
login-error-blocked = Слишком много неудачных попыток. Попробуйте позже.
role = Роль
role-worker = Специалист
role-supervisor = Супервизор
role-admin = Администратор
error-bad-request = Это невозможно выполнить
error-conflict = Случай тем временем изменился
error-not-found = Не найдено
error-forbidden = Нет доступа
error-unauthenticated = Войдите в систему
error-too-many = Слишком много попыток
error-internal = Ошибка на сервере
back-to-dashboard = К списку случаев
someone = кто-то
dashboard-title = Нагрузка
cases = Случаи
cases-count = { $count ->
    [one] { $count } случай
    [few] { $count } случая
   *[other] { $count } случаев
}
cases-shown = { $count ->
    [one] Показан { $count } случай
    [few] Показано { $count } случая
   *[other] Показано { $count } случаев
}
conflicts-count = { $count ->
    [one] { $count } конфликт
    [few] { $count } конфликта
   *[other] { $count } конфликтов
}
changes-count = { $count ->
    [one] { $count } изменение в истории дела
    [few] { $count } изменения в истории дела
   *[other] { $count } изменений в истории дела
}
activities-count = { $count ->
    [one] { $count } мероприятие
    [few] { $count } мероприятия
   *[other] { $count } мероприятий
}
today = Сегодня:
emergencies = Экстренные случаи
overdue-reviews = Просроченные пересмотры
with-conflicts = Неразрешённые конфликты
review-due = пересмотр
by-risk = Открытые случаи по уровню риска
per-worker = Открытые случаи по специалистам и этапам
worker = Специалист
total = Всего
search = Поиск
search-hint = Имя клиента или члена семьи
stage = Этап
risk = Риск
show = Показать
all = Все
apply = Применить
client = Клиент
assigned = Назначены
next-review = Следующий пересмотр
last-change = Последнее изменение
recent-activity = Недавние действия
none = Нет.
restricted = Ограниченный доступ
emergency = Экстренный
risk-unknown = Нет вывода
stage-intake = Приём информации
stage-assessment = Диагностика
stage-planning = Планирование
stage-implementation = Внедрение
stage-monitoring = Контроль
stage-review = Оценка
stage-closed = Закрыт
risk-no_evidence = Нет признаков вреда
risk-insufficient_info = Недостаточно информации
risk-concern = Есть опасения
risk-evidence_of_harm = Есть признаки вреда
team = Команда
sections = Разделы дела
section-conflicts = Конфликты
section-client = Клиент и семья
section-intake = Приём
section-assessments = Диагностика
section-plan = План
section-referrals = Направления
section-visits = Визиты
section-appointments = Встречи
section-reviews = Пересмотры
section-closures = Закрытие
section-assignment = Назначение
no-conflicts = Ни одно поле не содержит параллельных значений.
conflicts-explain = Эти поля два человека изменили по-разному, работая раздельно. Сохранены оба значения; выберите верное. Ваш выбор записывается как ваше изменение и попадёт на телефоны при следующей синхронизации.
conflict-see = конфликт
shown-now = показано сейчас
device = устройство
choose-value = Оставить это значение
history = История
who = Кто
action = Действие
household = Семья
contacts = Контакты
consents = Согласия
yes = Да
no = Нет
yesno-true = Да
yesno-false = Нет
retracted = Отозвано
recorded-by = Записал(а)
domain = Сфера жизни
f-name = Имя
f-name-latin = Имя латиницей
f-client-kind = Клиент
f-date-of-birth = Дата рождения
f-birth-approximate = Дата рождения приблизительная
f-gender = Пол
f-languages = Языки
f-address = Адрес
f-vulnerabilities = Уязвимости
f-notes = Заметки
f-note = Заметка
f-case-manager = Ведущий специалист
f-priority = Приоритет
f-relationship = Родство
f-lives-with-client = Живёт с клиентом
f-kind = Вид
f-value = Значение
f-safe-to-contact = Безопасно связываться
f-topic = Предмет
f-given-by = Дано кем
f-granted = Дано
f-date = Дата
f-withdrawn-on = Отозвано
f-source = Источник
f-reporter = Сообщил(а)
f-reason = Причина
f-presenting-problems = Заявленные проблемы
f-urgency = Срочность
f-preliminary-risk = Предварительный риск
f-safety-measures = Неотложные меры безопасности
f-multiple-problems = Более двух проблем, требующих длительной работы
f-basic-needs-met = Неотложные базовые потребности удовлетворены
f-cannot-access-alone = Не может сам получить услуги
f-conclusion = Заключение
f-capability = Возможности
f-summary = Итог
f-rating = Оценка
f-needs = Потребности
f-strengths = Сильные стороны
f-family-agreed = Семья согласна с планом
f-approval = Утверждение супервизором
f-comment = Комментарий
f-description = Описание
f-need = Потребность
f-goal = Цель
f-target-date = Срок
f-status = Статус
f-activity = Мероприятие
f-responsible = Ответственный
f-due-date = Срок
f-organisation = Организация
f-service = Услуга
f-status-reason = Почему
f-outcome = Результат
f-place = Место
f-participants = Участники
f-when = Когда
f-with-whom = С кем
f-purpose = Цель
f-attendance-needs = Что нужно, чтобы прийти
f-satisfaction = Удовлетворённость
f-decision = Решение
f-reopen-reason = Причина повторного открытия
kind-person = Человек
kind-family = Семья
visit-home = Визит на дом
visit-phone = Звонок
visit-office = Встреча в офисе
visit-other = Другой контакт
approval-none = Не запрошено
approval-requested = Ожидает утверждения
approval-approved = Утверждено
approval-returned = Возвращено
closure-requested = Запрошено закрытие
closure-approved = Утверждено
closure-returned = Возвращено
activity-planned = Запланировано
activity-in_progress = Выполняется
activity-done = Выполнено
activity-cancelled = Отменено
referral-sent = Отправлено
referral-accepted = Принято
referral-declined = Отклонено
referral-completed = Выполнено
referral-unavailable = Услуга недоступна
domain-housing = Жильё
domain-income = Доходы и расходы
domain-employment = Занятость
domain-education = Образование
domain-physical_health = Физическое здоровье
domain-mental_health = Психическое здоровье
domain-family_relationships = Семейные и социальные связи
domain-safety = Безопасность
domain-beliefs = Убеждения и религия
domain-recreation = Досуг
domain-self_care = Навыки самообслуживания
domain-legal_status = Правовой статус
domain-community_resources = Ресурсы сообщества
assign-to = Назначить
assign = Сохранить назначение
approvals-title = Утверждение
plans-waiting = Планы, ожидающие утверждения
closures-waiting = Закрытия, ожидающие утверждения
requested-by = Запросил(а)
comment = Комментарий (нужен для возврата)
approve = Утвердить
return = Вернуть специалисту
reports-title = Отчёты
reports-scope = По всем доступным вам случаям. Файлы CSV содержат номера дел, а не имена.
report-gaps = Пробелы в услугах: отклонённые или недоступные направления
report-needs = Неудовлетворённые потребности по сферам жизни
report-caseload = Статистика нагрузки
report-closed = Результаты закрытых случаев
export-csv = Выгрузить в CSV
col-referrals = Направления
col-with-need = Случаи с потребностью
col-without-plan = Без плана по ней
col-referral-refused = Направление отклонено или недоступно
col-open = Открыто
col-concern = Опасения и выше
col-closed = Закрыто
col-case = Дело
col-closed-on = Дата закрытия
col-reopened = Открыто повторно
admin-title = Пользователи и команды
teams = Команды
team-name = Название команды
add-team = Добавить команду
users = Пользователи
add-user = Добавить пользователя
disable = Отключить
disabled = Отключён
history-kept = оставлено показанное значение, остальные удалены
closure-reason-goals_achieved = Цели достигнуты
closure-reason-risk_resolved = Риск устранён
closure-reason-client_declined = Клиент отказался от помощи
closure-reason-moved_away = Переезд
closure-reason-transferred = Передан
closure-reason-deceased = Смерть
closure-reason-other = Другое
audit-trail = Журнал доступа к случаям с ограниченным доступом
audit-explain = Кто и когда читал или синхронизировал случай с ограниченным доступом (последние 50).
act-approve-closure = утвердил(а) закрытие
act-approve-plan = утвердил(а) план
act-assign = назначил(а) случай
act-create-case = открыл(а) случай
act-record-family-agreement = записал(а) согласие семьи
act-record-intake = записал(а) приём
act-reopen-case = повторно открыл(а) случай
act-request-closure = запросил(а) закрытие
act-request-plan-approval = запросил(а) утверждение плана
act-retract = отозвал(а) запись
act-return-closure = вернул(а) запрос на закрытие
act-return-plan = вернул(а) план
act-set-activity-status = изменил(а) статус мероприятия
act-set-appointment-status = изменил(а) статус встречи
act-set-next-review = назначил(а) следующий пересмотр
act-set-referral-status = изменил(а) статус направления
act-set-sensitivity = изменил(а) уровень доступа
act-update-client = обновил(а) данные клиента
act-update-problem = обновил(а) проблему
act-withdraw-consent = записал(а) отзыв согласия
act-add = добавил(а)
act-set = установил(а)
act-edit = отредактировал(а)
act-stage = сменил(а) этап
new-password = Новый пароль
set-password = Задать пароль

# Поля и коды дела
f-created-at = Дело открыто
f-created-by = Кем открыто
f-sensitivity = Конфиденциальность
f-reporter-contact = Контакт сообщившего
f-criteria-note = О критериях
f-scope = Объём
f-withdrawn-reason = Почему отозвано
f-sources = Источники
f-resources = Ресурсы
f-frequency = Как часто
f-agreement-date = Дата согласия
f-agreement-by = Кто согласился
f-agreement-note = О согласии
f-duration = Длительность (минуты)
f-satisfaction-note = Об удовлетворённости
f-progress = Продвижение по целям
sensitivity-normal = Обычное
sensitivity-restricted = Ограниченный доступ
gender-female = Женский
gender-male = Мужской
gender-other = Другой
gender-undisclosed = Не указан
priority-low = Низкий
priority-normal = Обычный
priority-high = Высокий
priority-urgent = Срочный
urgency-routine = В обычном порядке
urgency-urgent = Срочно
urgency-emergency = Экстренно
topic-information_sharing = Передача сведений
topic-plan = План
topic-referral = Направление
topic-photo = Фотографии
topic-other = Другое
contact-phone = Телефон
contact-email = Эл. почта
contact-messenger = Мессенджер
contact-address = Адрес
contact-other = Другое
problem-open = Открыта
problem-in_progress = В работе
problem-achieved = Достигнуто
problem-not_achieved = Не достигнуто
problem-dropped = Снята
decision-continue = Продолжить план
decision-new_plan = Составить новый план
decision-close = Закрыть дело
responsible-case_manager = Ведущий специалист
responsible-worker = Социальный работник
responsible-partner = Организация-партнёр
responsible-client = Клиент
responsible-family = Семья
responsible-other = Другое
source-self = Сам клиент
source-family = Семья
source-neighbour = Соседи
source-school = Школа
source-health = Медицинская служба
source-police = Полиция
source-court = Суд
source-ngo = НКО
source-local_authority = Местная администрация
source-hotline = Горячая линия
source-community = Местное сообщество
source-other = Другое
appointment-planned = Назначена
appointment-kept = Состоялась
appointment-missed = Пропущена
appointment-rescheduled = Перенесена
vuln-domestic_violence = Домашнее насилие
vuln-sexual_violence = Сексуальное насилие
vuln-child_at_risk = Ребёнок в опасности
vuln-orphan_or_abandoned = Сирота или оставленный ребёнок
vuln-disability = Инвалидность
vuln-toxic_chemical_victim = Пострадавший от токсичных веществ
vuln-hiv_aids = ВИЧ/СПИД
vuln-hazardous_labour = Опасный труд
vuln-working_far_from_home = Работа вдали от дома
vuln-street_child = Беспризорный ребёнок
vuln-sexually_abused = Пострадавший от сексуального насилия
vuln-drug_use = Употребление наркотиков
vuln-in_conflict_with_law = В конфликте с законом
vuln-internally_displaced = Внутренне перемещённое лицо
vuln-veteran = Ветеран
vuln-elderly = Пожилой человек
vuln-family_in_difficulty = Семья в трудной ситуации
vuln-other = Другое
time-claimed = время на устройстве
time-claimed-explain = Устройство, внёсшее это изменение, указало время, далёкое от момента его получения сервером; показано время получения.
enable = Включить
devices = Устройства
devices-explain = Телефоны каждого пользователя: отзовите потерянный; при следующем подключении он будет очищен, а пользователь продолжит работу с другого.
registered = Зарегистрировано
last-seen = Последний раз
revoked = отозвано
revoke = Отозвать
admin-log = Административные действия
admin-target = Объект
account = Моя учётная запись
change-password = Сменить мой пароль
current-password = Текущий пароль
nav-people = Сотрудники
people-title = Сотрудники
people-explain = Люди, за которых вы отвечаете (супервизор — своя команда, администратор — все), их открытые случаи и телефоны. Откройте сотрудника, чтобы отозвать потерянный телефон, передать случаи или сменить роль и команду.
open-cases = Открытые случаи
phone = Телефон
open-sessions = Сеансы
open-cases-count = { $count ->
    [one] { $count } открытый случай
    [few] { $count } открытых случая
   *[other] { $count } открытых случаев
}
handover-title = Передать случаи
handover-nothing = Нет открытых случаев для передачи.
handover-no-colleagues = В этой команде нет активного коллеги, который мог бы принять случаи: сначала добавьте или включите его.
handover-explain = Каждый открытый случай сотрудника { $name } по очереди переходит отмеченным коллегам. Их телефоны получат случаи при следующей синхронизации; телефоны сотрудника { $name } передадут последние изменения и удалят случаи.
handover-to = Кому
handover-proposed = (предложены те, у кого меньше всего случаев)
caseload-now = сейчас { $count }
caseload-after = после { $count }
hand-over = Передать
move-title = Роль и команда
move-explain = Сотрудник, который переходит в другую команду, сначала передаёт свои открытые случаи; последний активный администратор остаётся администратором.
move-save = Сохранить роль и команду
value-cleared = (очищено)
summary-title = Кратко
summary-due = Сроки и просрочки
summary-referrals = Открытые направления
summary-visits = Последние визиты
overdue = Просрочено
show-empty-fields = Показать пустые поля
age-years = { $count ->
    [one] { $count } год
    [few] { $count } года
   *[other] { $count } лет
}
section-timeline = Ход случая
report-period = Период
period-from = С
period-to = По
period-show = Показать
export-xlsx = Экспорт XLSX
report-months = Открытые и закрытые случаи по месяцам
report-gender = Клиенты за период по полу
report-age = Клиенты за период по возрасту
report-stage = Случаи за период по этапам
report-referral-outcomes = Направления за период по результату
report-time-to-close = Время от открытия до закрытия
col-opened = Открыто
col-cases = Случаи
col-closures = Закрытия
col-median-days = Медиана, дней
col-longest-days = Дольше всего, дней
col-month = Месяц
col-group = Группа
age-unknown = Возраст неизвестен
age-0-5 = 0–5
age-6-11 = 6–11
age-12-17 = 12–17
age-18-59 = 18–59
age-60-plus = 60+
gender-unknown = —
team-key = Ключ команды
team-new-label = Новое название
team-rename = Переименовать
unsynced-col = Несинхронизированное
unsynced-none = нет после последней синхронизации
unsynced-after = { $count ->
    [one] { $count } случай не синхронизирован
    [few] { $count } случая не синхронизированы
   *[other] { $count } случаев не синхронизированы
}
unsynced-cut = до { $count } не синхронизировано: последняя синхронизация не завершилась
unsynced-unknown = нет сведений
refusal-foreign_actor = Эти изменения сделаны на другом устройстве, не на том, которое их отправило.
refusal-attribution = Эти изменения указывают автором другого человека или переписывают, кто и когда что сделал.
refusal-invalid_document = Дело перестало бы соответствовать своей форме.
refusal-needs_authority = Для этого нужен супервизор.
refusal-wrong_case = Документ — не тот случай, как которым он отправлен.
refusal-assignment = Случай назначают только активным работникам и супервизорам его команды, и хотя бы одному.
refusal-team = Такой команды нет, или вы не можете передать туда случай.
refusal-unapplicable = Изменения не удалось применить к случаю.
refusal-limit = Достигнут предел.
refusal-departure = Это устройство сейчас не может сдать изменения по этому случаю.
refusal-other = Изменения отклонены.

## The case process (issue 15): conclusions, next steps, kinds of case, intake decisions, closing.
finding-no_evidence_of_abuse = Нет доказательств жестокого обращения с ребёнком
finding-insufficient_information = Недостаточно информации для вывода
finding-other_family_problems = Есть свидетельства других проблем в семье
finding-evidence_of_abuse = Есть доказательства жестокого обращения с ребёнком
next-step-no_further_support = Дополнительная помощь не нужна
next-step-investigate_further = Провести дополнительную проверку
next-step-refer_to_responsible_body = Передать в ответственный орган
next-step-collect_evidence_and_intervene = Собрать информацию, искать доказательства жестокого обращения
case-kind-child_protection = Защита ребёнка
case-kind-disability = Инвалидность (Циркуляр 01/2015)
case-kind-violence_against_women = Насилие в отношении женщин
case-kind-family_in_difficulty = Семья, попавшая в трудную жизненную ситуацию
case-kind-internally_displaced = Внутренне перемещённое лицо
case-kind-veteran = Ветеран
case-kind-legal_aid = Правовая помощь
case-kind-other = Другое
intake-decision-accepted = Принят на ведение случая
intake-decision-screened_out = Не принят
intake-decision-referred_elsewhere = Направлен в другую организацию
informed-how-in_person = Лично
informed-how-home_visit = При посещении на дому
informed-how-phone = По телефону
informed-how-letter = Письмом
informed-how-other = Другое
closure-reason-no_further_support_needed = Дополнительная помощь не нужна
closure-reason-screened_out = Не принят при приёме информации
closure-reason-referred_elsewhere = Направлен в другую организацию
referral-declined_by_client = Клиент отказался
referral-declined_by_organisation = Организация отказала
by-finding = Открытые случаи защиты ребёнка по выводу
by-kind = Открытые случаи по виду
kind-not-set = Вид не указан
next-steps-waiting = Ожидающие следующие шаги
earlier-scale = прежняя шкала: нужен новый вывод
earlier-scale-explain = Записано по шкале риска прежней версии, которой нет в исходных материалах: запишите вывод.
f-case-kind = Вид случая
f-finding = Вывод
f-earlier-risk = Риск (прежняя шкала)
f-next-step = Следующий шаг
f-next-step-due = Срок следующего шага
f-next-step-done = Следующий шаг выполнен
f-preliminary-finding = Предварительный вывод
f-referring-organisation = Направившая организация
f-safety-secured = Безопасность обеспечена
f-intake-decision = Решение при приёме
f-decision-reason = Причина решения
f-referred-to = Куда направлен
f-new-risk-factors = Новые факторы риска
f-new-supports = Новые ресурсы поддержки
f-client-opinion = Мнения клиента или членов семьи
f-specialist-opinions = Мнения специалистов
f-stage-at-request = Этап при запросе закрытия
f-informed = Клиент или семья извещены
f-informed-on = Дата извещения
f-informed-how = Как извещены
f-informed-note = Примечание об извещении
act-decide-intake = принял(а) решение при приёме
act-secure-safety = записал(а), что безопасность обеспечена
act-record-informed = записал(а), что семья извещена
act-complete-next-step = выполнил(а) следующий шаг
plan-draft-of = Черновик: изменения утверждённой версии { $version }, нужно утверждение
change-added = добавлено
change-removed = удалено
authority-decision = Решение внешнего органа (если он решал)
f-authority = Орган
f-decision-number = Номер решения
f-decision-date = Дата решения
plan-versions = Утверждённые версии
plan-version = Версия { $version }
plan-approved-unversioned = Утверждён до того, как версии стали сохраняться: утверждённое видно в истории случая.
not-told = Не извещены
not-yet-told = Клиент или семья ещё не извещены: запишите это до утверждения.
f-domain = Сфера жизни
overdue-steps = Просроченные шаги
agenda-appointment = встреча
agenda-activity = мероприятие
agenda-follow_up = дело после визита
agenda-review = пересмотр
agenda-investigation = дополнительная проверка
agenda-safety = меры безопасности
agenda-assessment = первая диагностика
agenda-plan = утверждённый план
agenda-referral_answer = ответ партнёра
section-safety = Безопасность
contact-not-safe = Небезопасно связываться: не для напоминаний, не печатается
f-perpetrator-relationship = Предполагаемый обидчик: кем приходится клиенту
f-perpetrator-lives-with-client = Предполагаемый обидчик живёт с клиентом
f-protection-order = Охранный ордер
f-protection-order-note = Об охранном ордере
f-warning-signs = Тревожные признаки
f-safe-contacts = Безопасные контакты
f-safe-places = Безопасные места
f-what-to-do = Что делать
f-reviewed-on = План безопасности пересмотрен
protection-order-none = Нет
protection-order-applied_for = Подано заявление
protection-order-in_force = Действует
protection-order-expired = Истёк
act-record-safety = записал(а) план безопасности
record-decision = Записать решение
act-record-plan-decision = записал(а) решение органа по плану
f-ready-to-talk = Готова говорить о произошедшем
f-problems-to-work-on = Проблемы, с которыми будут работать социальные службы
f-unrecognised-problems = Проблемы, которые члены семьи не осознают как проблему
f-recommendations = Рекомендации для вовлеченных служб
f-legal-question = Правовой вопрос
f-action-steps = Алгоритм действий клиента (с чего начать)
f-expected-result = Что должно быть в результате
f-lawyer-needed = Нужен адвокат или представитель центра
deadlines = Сроки
deadlines-note = Через сколько дней от начальной точки должен быть выполнен каждый шаг, по командам. Сроки задаются в файле конфигурации сервера ([deadlines], [team_deadlines.<команда>]) и приходят на телефоны при синхронизации; здесь только просмотр.
deadline-step = Шаг
deadline-from = Отсчёт от
from-intake = даты приёма
from-referral = даты направления
from-approval = утверждения плана
review-otherwise = оценка, остальные случаи
days-count = { $count ->
    [one] { $count } день
    [few] { $count } дня
   *[other] { $count } дней
}

# The partner directory (issue 16)
nav-directory = Справочник
directory = Справочник организаций-партнёров
directory-search = Услуга, организация или район
directory-domain = Сфера жизни
directory-area = Район
directory-age = Возраст
directory-include-inactive = Включая неактивные услуги
directory-empty = Справочник ещё не загружен.
directory-none = Подходящих услуг нет.
directory-service = Услуга
directory-organization = Организация
directory-status = Статус
directory-description = Описание
directory-genders = Для кого
directory-eligibility = Кто может обратиться
directory-contact = Контактное лицо
directory-location = Адрес приёма
directory-edit = Изменить статус и телефоны
directory-phones = Телефоны (по одному в строке)
directory-save = Сохранить
service-status-active = Работает
service-status-inactive = Не работает
service-status-defunct = Прекратила работу
service-status-temporarily-closed = Временно закрыта

# Printed forms and letters (console/print.rs)
print-printed = Напечатано
print-with-restricted = включены сведения, которые обычно не печатаются (сведения ограниченного доступа, небезопасные контакты)
print-forms = Печать
letter-closure-title = Ваш случай закрыт
letter-closure-greeting = Уважаемый(ая) { $name },
letter-closure-body = Сообщаем, что работа по вашему случаю завершена { $date }.
letter-closure-reason = Причина:
letter-closure-again = Если ваша ситуация изменится или вам снова понадобится помощь, вы можете обратиться к нам в любое время.
letter-closure-to = Кому
f-safety-secured-at = Безопасность обеспечена
f-safety-secured-by = Безопасность обеспечил(а)
f-decided-at = Дата решения
f-decided-by = Решение принял(а)
f-requested-at = Дата запроса
f-requested-by = Запросил(а)
f-recorded-at = Дата записи
f-reopened-at = Дата повторного открытия
f-reopened-by = Повторно открыл(а)
f-number = Номер
f-agreed = Согласие
f-done = Выполнено
f-level = Уровень
f-label = Подпись
f-text = Текст
section-viewed = Кто просматривал случай
viewed-explain = Каждое обращение к случаю (страницы консоли, печать, синхронизация с телефонами, чтение через API), сначала последние; весь журнал связан цепочкой и проверяется командой fieldcase-server audit --verify.
viewed-device = Устройство
viewed-what = Что
f-by = Кто
name-hidden = Случай с ограниченным доступом: имя клиента показано инициалами.
name-show = Показать имя (это записывается)

# The referral loop (issue 16)
referral-received = Получено
referral-service_started = Услуга начата
referral-delivered = Услуга оказана
f-feedback = Отзыв партнёра
f-shares-information = Передаёт сведения о клиенте
referral-steps = Шаги
f-directory-service = В справочнике партнёров
f-consent = Согласие
report-referrals = Итоги направлений по организациям и услугам
col-sent = Отправлено
col-reasons = Названные причины
col-days-to-answer = Медиана дней до ответа
col-days-to-deliver = Медиана дней до оказания услуги

# A partner answers through a link (issue 16, ADR 0006)
link-made = Ссылка для партнёра
link-made-explain = Отправьте эту ссылку организации-партнёру по безопасному каналу. Она показывается только сейчас и открывает страницу направления, пока не истечёт или не будет отозвана.
link-expires = Действует до
section-links = Ссылки для партнёра
link-revoked = Отозвана
link-expired = Истекла
link-revoke = Отозвать
link-language = Язык партнёра
link-make = Создать ссылку для партнёра
partner-title = Направление
partner-too-many = Слишком много запросов по этой ссылке за последний час. Попробуйте позже.
partner-failed = Страницу не удалось показать. Попробуйте позже.
partner-invalid = Эта ссылка недействительна: срок её действия истёк или она отозвана. Попросите новую у социального работника, который её прислал.
partner-answered = Ваш ответ записан. Спасибо.
partner-intro = Социальный работник направил клиента в вашу организацию. Пожалуйста, сообщите, чем закончилось направление.
partner-from = Направил(а)
partner-client = Клиент
partner-not-shared = Сведения о клиенте по этой ссылке не передаются.
partner-ended = Это направление завершено; больше ничего не требуется.
partner-answer = Ваш ответ
partner-reason = Причина (если вы отказываете или услуга недоступна)
partner-send = Отправить ответ
partner-refused = Ответ не удалось записать.

# The referral letter (issues 16 and 17)
letter-referral-title = Направление
letter-referral-to = Кому
letter-referral-intro = Мы направляем указанного ниже клиента в вашу службу по причине, указанной выше, и просим сообщить нам, принимаете ли вы направление, а позднее — чем оно закончилось.
letter-referral-consent = Клиент { $date } согласился на это направление и на передачу вам этих сведений.
letter-referral-reply = Пожалуйста, ответьте социальному работнику, подписавшему это направление.
col-terms = Термины классификатора
col-active-services = Действующие услуги в справочнике
directory-name = Название
directory-min-age = С возраста
directory-max-age = До возраста
directory-areas = Обслуживаемые территории (по одной на строку)
directory-languages = Языки оказания услуги (коды, напр. ru, uk)
print-whole-file = Всё дело
export-json = Собственные данные клиента (JSON)
duplicates-title = Возможные дубликаты
duplicates-intro = Дела, клиенты которых могут быть одним человеком; найдены при поступлении дела. Дело другой команды показано только командой: обратитесь к её руководителю.
duplicates-open = Открытые
match-likely = вероятно
match-possible = возможно
match-reasons = Почему
match-found = Найдено
match-dismiss = Это разные люди (отклонить)
match-elsewhere = дело в команде { $team }; обратитесь к её руководителю
match-same-name = { $transliterated ->
    [yes] то же имя после транслитерации
   *[no] то же имя
}
match-same-consonants = те же согласные (персидское письмо и латиница)
match-name-differs = { $transliterated ->
    [yes] { $letters ->
        [one] имя отличается на { $letters } букву после транслитерации
        [few] имя отличается на { $letters } буквы после транслитерации
       *[other] имя отличается на { $letters } букв после транслитерации
    }
   *[no] { $letters ->
        [one] имя отличается на { $letters } букву
        [few] имя отличается на { $letters } буквы
       *[other] имя отличается на { $letters } букв
    }
}
match-order-swapped = другой порядок частей имени
match-part-missing = { $parts ->
    [one] не хватает { $parts } части имени
   *[other] не хватает { $parts } частей имени
}
match-same-dob = та же дата рождения
match-dob-window = { $years ->
    [0] примерные даты рождения в одном году
    [one] примерные даты рождения с разницей в { $years } год
    [few] примерные даты рождения с разницей в { $years } года
   *[other] примерные даты рождения с разницей в { $years } лет
}
match-dob-nearly = дата рождения отличается одной цифрой или день и месяц переставлены
match-dob-differs = даты рождения различаются
match-gender-differs = пол различается
match-same-phone = тот же номер телефона
match-household = { $count ->
    [one] { $count } член семьи с тем же именем
    [few] { $count } члена семьи с теми же именами
   *[other] { $count } членов семьи с теми же именами
}

# Erasure and retention (issue 18)
erasure-link = Удалённые случаи, запросы на удаление и сроки хранения
erasure-title = Удаление и сроки хранения
erasure-explain = Удаление случая уничтожает его ключ: ничего из него больше нельзя прочитать ни на сервере, ни в восстановленных после этого резервных копиях, ни на телефонах, которые удаляют его при следующей синхронизации. Остаются номер случая, его команда, когда, кем и почему он удалён.
erasure-requests = Запросы на удаление
erasure-none-waiting = Запросов нет.
erasure-case = Случай
erasure-requested-by = Кто запросил
erasure-reason = Причина
erasure-decision = Решение
erasure-decision-erased = удалён
erasure-decision-refused = отказано
erasure-waiting = ждёт администратора
erasure-erase = Удалить навсегда
erasure-refuse = Отказать
erasure-erased = Удалённые случаи
erasure-erased-none = Ни один случай не удалён.
erasure-erased-by = Кем удалён
erasure-by-cli = командная строка
erasure-by-retention = срок хранения
erasure-retention = Закрытые случаи с истёкшим сроком хранения команды
erasure-retention-none = Нет закрытых случаев с истёкшим сроком хранения.
erasure-closed-on = Закрыт
erasure-due = Срок хранения истёк
erasure-action-erase = сервер удалит его
erasure-action-list = ждёт решения
erasure-ask = Удалить этот случай
erasure-ask-explain = Попросите администратора удалить этот случай навсегда. Его ключ будет уничтожен: ничего из него больше нельзя будет прочитать. Причина сохраняется; не называйте в ней клиента.
erasure-ask-button = Запросить удаление
# Attachments (issue 17)
section-attachments = Документы и фотографии
attachment-photo = Фотография
attachment-document = Документ
attachment-signature = Подпись
attachment-audio = Аудиозапись
attachment-not-here = Ещё не на сервере: пока на телефоне, с которого приложен.
attachment-open = Открыть
attachment-about = Относится к
attachment-none = Документов не приложено.
f-caption = Подпись к файлу
kilobytes = { $n } КБ
section-consents = Согласия
f-hash = SHA-256 файла
f-size = Размер в байтах
f-media-type = Тип файла
f-about = Относится к

# Supervision on the record (revision 4) and duplicates confirmed
section-supervision = Супервизия
supervision-none = Нет записей о консилиумах, разборах и разногласиях.
supervision-case_conference = Консилиум по случаю
supervision-supervisor_review = Разбор ведения случая руководителем
supervision-self_review = Самоанализ ведения случая специалистом
supervision-disagreement = Разногласие между специалистами
supervision-add = Записать супервизию
supervision-record = Записать
supervision-explain = Разбор отвечает: что замечено и почему случай понят и решён так; что удалось; чему научились; что делать иначе. Консилиум — кто участвовал и что решили; разногласие — позиции сторон и как оно разрешено.
one-per-line = по одному в строке
f-observed = Что замечено или обсуждено
f-went-well = Что удалось
f-learning = Чему научились
f-changes = Что делать иначе
f-decisions = Решения
f-positions = Позиции сторон
f-resolution = Как разрешено
f-duplicate-of = Дубликат дела
closure-reason-duplicate = Дубликат другого дела того же клиента
act-close-as-duplicate = закрыл(а) дело как дубликат
match-confirm = Один человек: оставить { $keep }, закрыть { $close } как дубликат
match-confirm-both = Подтвердить, что это один человек, может только руководитель, который видит оба дела.
time-zone = Часовой пояс
time-zone-now = Время на этих страницах показано по поясу { $zone }.
time-zone-team = Пояс моей команды ({ $zone })
save = Сохранить

# Problems with input, by code (the API answers the same codes for apps to translate)
problem-invalid-field = Это значение не принято: { $path }.
problem-invalid-transition = Сейчас дело нельзя перевести из «{ $from }» в «{ $to }».
problem-body-too-large = Запрос больше, чем принимает сервер ({ $max_bytes } байт).
problem-body-not-json = Запрос не удалось прочитать.
problem-body-not-json-type = Запрос отправлен не в формате JSON.
problem-form-unreadable = Форму не удалось прочитать, или не заполнено поле.
problem-form-too-large = Форма больше, чем принимает сервер.
problem-no-such-language = Такого языка нет.
problem-no-such-time-zone = Такого часового пояса нет.
problem-period-invalid = Выберите период из двух дат, первая раньше второй, не более { $max_months } мес.
problem-no-such-supervision-kind = Выберите, что записывается: консилиум, разбор или разногласие.
problem-value-unreadable = Выбранное значение не удалось прочитать; откройте дело заново.
problem-team-name-invalid = Название команды — от 1 до { $max ->
    [one] { $max } символа
   *[other] { $max } символов
}.
problem-team-name-taken = Команда «{ $team }» уже есть: выберите другое название.
problem-no-such-team = Команды «{ $team }» нет.
problem-team-needed = Специалисты и супервизоры входят в команду: выберите её.
problem-no-such-role = Выберите роль: специалист, супервизор или администратор.
problem-username-invalid = Имя пользователя — от 1 до { $max ->
    [one] { $max } символа
   *[other] { $max } символов
}: буквы, цифры, точки, дефисы, подчёркивания или @.
problem-username-reserved = Имена пользователей, начинающиеся с «{ $prefix }», отведены для ссылок партнёров: выберите другое.
problem-username-taken = Имя пользователя «{ $username }» уже занято: выберите другое.
problem-password-too-short = Пароль должен содержать не менее { $min ->
    [one] { $min } символа
   *[other] { $min } символов
}.
problem-password-too-long = Пароль должен содержать не более { $max ->
    [one] { $max } символа
   *[other] { $max } символов
}.
problem-password-too-easy = Этот пароль слишком легко угадать (распространённый пароль, повторы или последовательности, имя пользователя): выберите длинную фразу из не связанных между собой слов.
problem-current-password-wrong = Текущий пароль указан неверно.
problem-partner-link-not-account = Это ссылка организации-партнёра, а не учётная запись сотрудника: у неё нет пароля, и её нельзя включить снова.
problem-disable-self = Нельзя отключить собственную учётную запись: попросите другого администратора.
problem-last-admin = Это последний действующий администратор: сначала назначьте администратором кого-то другого.
problem-cases-assigned = { $count ->
    [one] За этим сотрудником закреплён { $count } случай: сначала передайте его.
    [few] За этим сотрудником закреплены { $count } случая: сначала передайте их.
   *[other] За этим сотрудником закреплено { $count } случаев: сначала передайте их.
}
problem-handover-from-admin = У администратора нет случаев для передачи.
problem-handover-to-self = Случаи передаются коллегам, а не тому же специалисту.
problem-handover-no-colleague = Отметьте хотя бы одного коллегу, которому передать случаи.
problem-handover-too-many = Случаи можно передать не более чем { $max } коллегам.
problem-handover-restricted = { $count ->
    [one] { $count } из этих случаев — с ограниченным доступом и скрыт от вас: его передаёт супервизор команды.
   *[other] { $count } из этих случаев — с ограниченным доступом и скрыты от вас: их передаёт супервизор команды.
}
problem-no-such-device = Сервер не знает этого устройства.
problem-device-name-invalid = Название устройства — от 1 до { $max ->
    [one] { $max } символа
   *[other] { $max } символов
}.
problem-actor-elsewhere = Эта установка приложения уже зарегистрирована на другом устройстве.
problem-directory-invalid = Справочник не сохранён: в нём { $count ->
    [one] { $count } ошибка
    [few] { $count } ошибки
   *[other] { $count } ошибок
}.
problem-directory-too-large = Справочник больше, чем хранит сервер ({ $max_bytes } байт).
problem-directory-changed = Справочник тем временем изменился: откройте его заново и внесите изменение ещё раз.
problem-field-too-long = Поле длиннее, чем принимает форма ({ $max_bytes } байт).
problem-service-needs-name = У службы должно быть название.
problem-age-invalid = Возраст — целое число лет, от 0 до { $max }.
problem-reason-invalid = Причина — одна строка длиной от 1 до { $max ->
    [one] { $max } символа
   *[other] { $max } символов
}.
problem-erased-already = Этот случай уже удалён.
problem-erasure-asked-already = Удаление этого случая уже запрошено и ждёт решения администратора.
problem-retention-days-invalid = Срок хранения — от { $min } до { $max ->
    [one] { $max } дня
   *[other] { $max } дней
}.
problem-return-needs-comment = Чтобы вернуть специалисту, напишите комментарий: что нужно изменить.
problem-comment-too-long = Комментарий длиннее { $max ->
    [one] { $max } символа
   *[other] { $max } символов
}.
problem-authority-too-long = Название органа или номер его решения слишком длинные.
problem-referral-ended = Работа по этому направлению завершена: создайте новое направление.
problem-answer-not-now = Сейчас направление не может принять такой ответ; обновите страницу.
problem-answer-too-long = Ответ длиннее { $max ->
    [one] { $max } символа
   *[other] { $max } символов
}.
problem-link-revoked-already = Эта ссылка уже отозвана.
problem-closure-not-approved = Закрытие этого случая не утверждено супервизором: письма для печати нет.
problem-filters-unreadable = Фильтры не удалось прочитать; выберите их заново.
retention-keep-days = Хранить ещё (дней)
retention-keep = Оставить
retention-erase-now = Удалить сейчас

# Related cases, both ways (issue 19)
section-related = Связанные дела
related-client = Клиент
related-how = Связь
related-listed-here = в семье этого клиента
related-lists-this-client = указывает этого клиента в своей семье
related-continues-in = это дело закрыто как его дубликат; работа продолжается там
related-duplicate-here = закрыто как дубликат этого дела; работа продолжается здесь
related-elsewhere = связанное дело в команде { $team }; обратитесь к её руководителю
related-not-visible = дело, которое вам не видно
f-own-case = Собственное дело
f-case-relation = Кем приходится клиенту
caserel-sibling = Брат или сестра
caserel-parent = Родитель
caserel-child = Ребёнок
caserel-relative = Родственник
caserel-household = Член домохозяйства

# Reports by kind of case, risk conclusion and vulnerability (issue 21)
report-case-kind = Случаи за период по виду случая
report-conclusion = Случаи за период по выводу об опасности
report-vulnerability = Клиенты за период по уязвимости (клиент с несколькими учтён в каждой)
col-clients = Клиенты
case-kind-unknown = —
finding-unknown = Вывода ещё нет
vuln-none = Не указано
report-time-to-steps = Время от открытия до каждого шага (шаги, впервые достигнутые за период)
step-assessment = Первая диагностика
step-plan = Первый утверждённый план
step-review = Первый пересмотр
step-closure = Закрытие

## Территории (issue 21)
f-area = Территория
areas = Территории
areas-intro = Территории, где работает организация (общины, районы). В случае хранится только код, поэтому новое название территории видно везде; код никогда не удаляется.
area-code = Код
area-name = Название
add-area = Добавить или переименовать
area-set = Указать территорию
area-not-recorded = Территория не указана
area-unknown = Нет в списке территорий: { $code }
areas-none = Территорий пока нет: их добавляет администратор.
report-area = Случаи периода по территории клиента
problem-area-code-invalid = Код территории — от 1 до { $max ->
    [one] { $max } символа
   *[other] { $max } символов
} (буквы, цифры, «-», «_» или «.»).
problem-area-name-invalid = Название территории — от 1 до { $max ->
    [one] { $max } символа
   *[other] { $max } символов
}.
problem-no-such-area = Территории с кодом «{ $area }» нет.
problem-too-many-areas = Сервер хранит не более { $max ->
    [one] { $max } территории
   *[other] { $max } территорий
}.
