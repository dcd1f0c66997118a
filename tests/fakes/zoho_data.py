"""Sample data for the fake Zoho People server.

Why: tests and local demos need an org that looks like a real one (accents,
a module name shared by two batches, past and future sessions, both session
types, a session past midnight) without anyone hand-writing Zoho's JSON.
Sessions are kept as raw dicts in Zoho's exact shape, so the fake serves
what Zoho serves, spelling quirks included (`presentLeanersCount`).
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ID_PREFIX = "219225000000"
"""Zoho ids are 18-digit strings; every sample id is this prefix + 6 digits."""

BLENDED = 2
"""Course `type` of blended courses (the only ones with batches and sessions)."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

STORED_DATE_FORMAT = "dd-MM-yyyy"
"""How raw session dicts hold `sessionStartDate` (what `make_session` writes and
Zoho's create API takes). The fake re-renders it in the org's DateFormat when
serving, so one stored session can be served to orgs with any date format."""

DATE_FORMATS = (
    "dd-MM-yyyy",
    "MM-dd-yyyy",
    "yyyy-MM-dd",
    "dd/MM/yyyy",
    "MM/dd/yyyy",
    "yyyy/MM/dd",
    "dd.MM.yyyy",
    "MM.dd.yyyy",
    "yyyy.MM.dd",
    "dd.MM.yy",
    "dd-MMM-yyyy",
    "MMM-dd-yyyy",
    "dd MMM yyyy",
    "MMM dd, yyyy",
    "dd MMMM yyyy",
    "MMMM dd, yyyy",
)
"""The DateFormat values a test should pick from.

Why this set: Zoho People's Locale and Display Settings offer a fixed list of
Java patterns that Zoho does not publish as text; this is the list the project
reference and the brief name, plus the other day/month/year orders with the
same separators and the long month name that Zoho's other apps offer. The
renderer (`format_java_date`) handles any pattern of d, M and y runs with
literal separators, so adding one here needs no code."""

_DATE_TOKEN = re.compile(r"d+|M+|y+|'[^']*'|[A-Za-z]|[^A-Za-z']+")


def zoho_id(n: int) -> str:
    """An 18-digit Zoho-style id, so clients never assume ids are small ints."""
    return f"{ID_PREFIX}{n:06d}"


def format_date(day: date) -> str:
    """Session dates as Zoho's create API takes them: DD-MM-YYYY."""
    return day.strftime("%d-%m-%Y")


def format_java_date(day: date, pattern: str) -> str:
    """`day` rendered with a Java date pattern (English month names, like Zoho's API).

    Why hand-rolled: strftime has no locale-independent month names and no
    single-letter (`d`, `M`) fields, and the patterns come straight from
    Zoho's `DateFormat`. Letters other than d, M and y are refused rather
    than rendered wrongly; text in single quotes is literal.
    """
    out: list[str] = []
    for token in _DATE_TOKEN.findall(pattern):
        letter = token[0]
        if letter == "d":
            out.append(f"{day.day:0{len(token)}d}")
        elif letter == "M":
            if len(token) >= 4:
                out.append(_MONTH_NAMES[day.month - 1])
            elif len(token) == 3:
                out.append(_MONTHS[day.month - 1])
            else:
                out.append(f"{day.month:0{len(token)}d}")
        elif letter == "y":
            out.append(f"{day.year % 100:02d}" if len(token) == 2 else f"{day.year:0{len(token)}d}")
        elif letter == "'":
            out.append(token[1:-1] or "'")
        elif letter.isalpha():
            raise ValueError(f"unsupported letter {letter!r} in date pattern {pattern!r}")
        else:
            out.append(token)
    return "".join(out)


def check_date_format(pattern: str) -> str:
    """`pattern` if it renders a day, a month and a year; ValueError otherwise."""
    letters = {t[0] for t in _DATE_TOKEN.findall(pattern)}
    if not {"d", "M", "y"} <= letters:
        raise ValueError(f"date pattern {pattern!r} needs a day (d), a month (M) and a year (y)")
    format_java_date(date(2000, 1, 2), pattern)  # raises on other letters
    return pattern


def parse_stored_date(text: str) -> date | None:
    """A stored `sessionStartDate` (dd-MM-yyyy) as a date; None if a test stored something else."""
    try:
        return datetime.strptime(text, "%d-%m-%Y").date()
    except (TypeError, ValueError):
        return None


def format_display_date(day: date) -> str:
    """Batch dates as Zoho shows them ("22-Dec-2021"), locale-independent."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def format_time(moment: time | datetime) -> str:
    """12-hour time with no leading zero on the hour ("9:00 AM", "1:00 PM")."""
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{hour}:{moment.minute:02d} {suffix}"


@dataclass
class Trainer:
    """A trainer: listed by /trainers and resolvable by getDataByID (for Slack DMs)."""

    erecno: str
    first_name: str
    last_name: str
    email: str
    status: str = "active"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def to_api(self) -> dict[str, Any]:
        """The /api/v1/trainers record."""
        return {"erecno": self.erecno, "displayName": self.display_name, "emailId": self.email}

    def to_employee_record(self) -> dict[str, Any]:
        """The getDataByID result record (People forms API field names)."""
        return {
            "EmailID": self.email,
            "FirstName": self.first_name,
            "LastName": self.last_name,
            "Zoho_ID": self.erecno,
            "Employeestatus": self.status.capitalize(),
        }


@dataclass
class Room:
    """A classroom; sessions carry both its name and its id."""

    room_id: str
    name: str


@dataclass
class Module:
    """A module of a batch; `sessions` holds raw Zoho session dicts."""

    module_id: str
    name: str
    sessions: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""

    def to_api(self, course_id: str, batch_id: str) -> dict[str, Any]:
        return {
            "moduleId": self.module_id,
            "moduleName": self.name,
            "courseId": course_id,
            "batchId": batch_id,
            "description": self.description,
        }


@dataclass
class Batch:
    """A batch (cohort) of a course. Dates default to the span of its sessions."""

    batch_id: str
    name: str
    modules: list[Module] = field(default_factory=list)
    learners_count: int = 0
    start: date | None = None
    end: date | None = None
    publish_status: str = "Published"
    minimum_capacity: int = 1
    maximum_capacity: int = 30

    def sessions(self) -> list[dict[str, Any]]:
        """All sessions of all modules, module order first (what Zoho's batch endpoint gives)."""
        return [session for module in self.modules for session in module.sessions]

    def _span(self) -> tuple[date | None, date | None]:
        days = [datetime.strptime(s["sessionStartDate"], "%d-%m-%Y").date() for s in self.sessions()]
        start = self.start or (min(days) if days else None)
        end = self.end or (max(days) if days else None)
        return start, end

    def to_api(self, course_id: str) -> dict[str, Any]:
        start, end = self._span()
        return {
            "batchId": self.batch_id,
            "courseId": course_id,
            "name": self.name,
            "learnersCount": self.learners_count,
            "startDateAsDisplayString": format_display_date(start) if start else "",
            "endDateAsDisplayString": format_display_date(end) if end else "",
            "publishStatus": self.publish_status,
            "minimumCapacity": self.minimum_capacity,
            "maximumCapacity": self.maximum_capacity,
        }


@dataclass
class Course:
    """A course; only blended ones (type 2) have batches with sessions."""

    course_id: str
    name: str
    type: int = BLENDED
    batches: list[Batch] = field(default_factory=list)
    description: str = ""

    def to_api(self) -> dict[str, Any]:
        return {
            "courseId": self.course_id,
            "courseName": self.name,
            "type": self.type,
            "description": self.description,
        }


def _sample_address() -> dict[str, str]:
    return {
        "AddressLine1": "Lark Road",
        "AddressLine2": "12 B",
        "City": "Mumbai",
        "State": "",
        "Country": "India",
        "PostalCode": "XX0123",
    }


@dataclass
class OrgSettings:
    """What `GET /api/v3/organization` reports, and what shapes the LMS answers.

    Why: the org's time zone and DateFormat decide how Zoho writes every
    session (`sessionStartDate` in DateFormat, times as wall clock in
    TimeZone), so a test builds an org "in Asia/Kolkata with MM-dd-yyyy" here
    and the fake serves it that way. The defaults (UTC, dd-MM-yyyy) are what
    the fake always served, so nothing built before this changes.
    """

    time_zone: str = "UTC"
    """IANA name, as Zoho's `TimeZone`."""
    date_format: str = STORED_DATE_FORMAT
    """Java pattern, as Zoho's `DateFormat`; see `DATE_FORMATS`."""
    time_format: str = "hh:mm a"
    """Java pattern, as Zoho's `TimeFormat` (reported only: LMS times stay "9:00 AM")."""
    company: str = "89740123"
    """Zoho's `Company`: the same value means the same organisation."""
    contact_mail: str = "tina.thomas@example.com"
    contact_person: str = "Tina Thomas"
    contact_number: str = "85420000"
    website: str = ""
    address: dict[str, str] = field(default_factory=_sample_address)

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone fails here, not in the middle of a served page
        check_date_format(self.date_format)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def format_date(self, day: date) -> str:
        """`day` as this org's LMS answers write it (to compute expected wire values)."""
        return format_java_date(day, self.date_format)

    def wall_clock(self, moment: datetime) -> datetime:
        """An aware instant as this org's naive wall-clock time (what Zoho shows)."""
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def to_api(self) -> dict[str, Any]:
        """The body of `GET /api/v3/organization`, in Zoho's key order."""
        return {
            "TimeFormat": self.time_format,
            "Company": self.company,
            "ContactMailId": self.contact_mail,
            "TimeZone": self.time_zone,
            "Address": dict(self.address),
            "DateFormat": self.date_format,
            "Website": self.website,
            "ContactNumber": self.contact_number,
            "ContactPerson": self.contact_person,
        }


@dataclass
class Org:
    """Everything the fake serves: courses (with their tree), trainers and the org's settings."""

    courses: list[Course] = field(default_factory=list)
    trainers: list[Trainer] = field(default_factory=list)
    settings: OrgSettings = field(default_factory=OrgSettings)

    def make_session(
        self,
        session_id: str,
        module_id: str,
        name: str,
        start: datetime,
        minutes: int = 60,
        **overrides: Any,
    ) -> dict[str, Any]:
        """`make_session` in this org's time zone: an aware `start` lands on the org's wall clock.

        Why: a test thinks in instants ("03:30 UTC") while Zoho writes wall-clock
        times in the org's zone ("9:00 AM" in Kolkata); passing an aware time
        here gets that conversion right. A naive `start` is wall-clock already.
        """
        return make_session(
            session_id, module_id, name, start, minutes, zone=self.settings.time_zone, **overrides
        )

    def locate(self, module_id: str) -> tuple[Course, Batch, Module]:
        """The course and batch owning a module, to build URLs in tests."""
        for course in self.courses:
            for batch in course.batches:
                for module in batch.modules:
                    if module.module_id == module_id:
                        return course, batch, module
        raise KeyError(module_id)

    def module_sessions_path(self, module_id: str) -> str:
        course, batch, _ = self.locate(module_id)
        return f"/api/v1/courses/{course.course_id}/batches/{batch.batch_id}/modules/{module_id}/sessions"

    def batch_sessions_path(self, batch_id: str) -> str:
        for course in self.courses:
            if any(batch.batch_id == batch_id for batch in course.batches):
                return f"/api/v1/courses/{course.course_id}/batches/{batch_id}/sessions"
        raise KeyError(batch_id)

    def all_sessions(self) -> list[dict[str, Any]]:
        return [s for c in self.courses for b in c.batches for s in b.sessions()]

    def module_named(self, name: str) -> list[Module]:
        """Every module with this exact name (names repeat across batches)."""
        return [m for c in self.courses for b in c.batches for m in b.modules if m.name == name]


def make_session(
    session_id: str,
    module_id: str,
    name: str,
    start: datetime,
    minutes: int = 60,
    *,
    zone: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A raw session dict in Zoho's exact shape.

    Zoho sends wall-clock times with no zone, in the org's time zone. Without
    `zone`, `start` is taken as that wall-clock time and any tzinfo is ignored
    (the historical behaviour). With `zone` (an IANA name), an aware `start`
    is an instant and is first converted to the wall clock of `zone`; a naive
    one is still wall-clock. `Org.make_session` passes the org's zone.
    An end past midnight yields an end time before the start time, as Zoho does.
    `overrides` use Zoho's key names, e.g. `sessionType="E-learning"`.
    """
    if zone is not None and start.tzinfo is not None:
        start = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    end = start + timedelta(minutes=minutes)
    session: dict[str, Any] = {
        "sessionId": session_id,
        "moduleId": module_id,
        "sessionName": name,
        "description": "",
        "sessionType": "Classroom",
        "sessionRoom": "",
        "roomId": "",
        "sessionTrainer": "",
        "trainerErecno": "",
        "sessionStartDate": format_date(start.date()),
        "sessionStartTime": format_time(start),
        "sessionEndTime": format_time(end),
        "totalLearnersCount": 0,
        "presentLeanersCount": 0,
        "isSessionCompleted": False,
        "isLocked": False,
        "lockUntil": "",
        "gradeCategoryName": "",
        "gradeCategoryId": "",
        "resources": [],
        "canUserDelete": False,
        "canUserEdit": False,
    }
    session.update(overrides)
    return session


# --- sample org -------------------------------------------------------------

_TRAINERS = [
    Trainer(zoho_id(600001), "Henry", "Martin", "henry.martin@example.com"),
    Trainer(zoho_id(600002), "Amélie", "Dubois", "amelie.dubois@example.com"),
    Trainer(zoho_id(600003), "Priya", "Raman", "priya.raman@example.com"),
    Trainer(zoho_id(600004), "Kwame", "Mensah", "kwame.mensah@example.com"),
    Trainer(zoho_id(600005), "Sofia", "Rossi", "sofia.rossi@example.com", status="inactive"),
]
_ROOMS = {
    "one": Room(zoho_id(500001), "Room One"),
    "board": Room(zoho_id(500002), "Board Room"),
    "lab": Room(zoho_id(500003), "Training Lab 2"),
    "lumiere": Room(zoho_id(500004), "Salle Lumière"),
}

# One row per session: (module number, name, day offset, "HH:MM", minutes, trainer index,
# room key or None for E-learning, description).
_Row = tuple[int, str, int, str, int, int, str | None, str]
_SCHEDULE: list[_Row] = [
    (1, "Welcome & company overview", -3, "09:00", 90, 0, "one", "Who we are and how we work."),
    (1, "Meet your buddy", 0, "14:00", 60, 1, None, "A video call with your onboarding buddy."),
    (2, "Laptop & accounts setup", 1, "09:30", 120, 3, "lab", "Bring your laptop charger."),
    (2, "Slack and e-mail etiquette", 2, "11:00", 60, 1, None, ""),
    (2, "Expense tool walkthrough", 8, "15:00", 45, 3, "lab", ""),
    (3, "Évacuation et premiers secours", 3, "10:00", 120, 1, "lumiere", "Exercice pratique."),
    (3, "Ergonomie du poste de travail", 10, "13:30", 60, 1, None, ""),
    (4, "Welcome & company overview", 14, "09:00", 90, 0, "one", "Who we are and how we work."),
    (4, "Meet your buddy", 14, "14:00", 60, 1, None, ""),
    (5, "Our values in practice", 15, "10:00", 90, 0, "board", ""),
    (5, "Night shift Q&A", 15, "22:30", 120, 3, None, "For colleagues on the night rota."),
    (5, "Customer stories", 21, "16:00", 60, 2, "one", ""),
    (6, "Feedback models", -7, "13:00", 120, 4, "board", "SBI and other models."),
    (6, "Practice lab: difficult conversations", 0, "09:00", 180, 2, "board", ""),
    (6, "Follow-up clinic", 6, "11:00", 60, 2, None, ""),
    (7, "The GROW model", 4, "14:00", 90, 2, "board", ""),
    (7, "Peer coaching triads", 11, "14:00", 90, 2, "one", ""),
    (8, "The change curve", 18, "10:00", 120, 0, "board", ""),
    (8, "Stakeholder mapping", 25, "10:00", 120, 0, "board", ""),
    (9, "What counts as personal data", -1, "12:00", 30, 3, None, "Self-paced, 30 minutes."),
    (9, "Lawful bases explained", 5, "12:00", 30, 3, None, ""),
    (9, "Quiz & certification", 12, "12:00", 30, 3, None, ""),
    (10, "Subject access requests", 7, "15:00", 60, 3, "lab", ""),
    (10, "Breach reporting drill", 28, "09:00", 90, 3, "lab", ""),
    (11, "Retention schedules", 9, "10:00", 60, 3, "one", ""),
    (11, "Vendor due diligence", 30, "10:00", 60, 3, "one", ""),
]

# module number -> (module name, batch number); batch number -> (name, learners, course number)
_MODULES = {
    1: ("Introduction", 1),
    2: ("Tools & Systems", 1),
    3: ("Sécurité au travail", 1),
    4: ("Introduction", 2),
    5: ("Company Culture", 2),
    6: ("Giving Feedback", 3),
    7: ("Coaching Conversations", 3),
    8: ("Leading Through Change", 3),
    9: ("GDPR Basics", 4),
    10: ("Handling Data Requests", 4),
    11: ("GDPR for Managers", 5),
}
_BATCHES = {
    1: ("Cohort A", 12, 1),
    2: ("Cohort B", 9, 1),
    3: ("Managers cohort", 8, 2),
    4: ("All staff", 140, 3),
    5: ("Managers", 25, 3),
}
_COURSES = {
    1: ("Onboarding", "Everything a new joiner needs in their first month."),
    2: ("Leadership Essentials", "Core skills for first-time managers."),
    3: ("Data Protection & GDPR", "Mandatory training on handling personal data."),
}


def _scheduled_session(row: _Row, number: int, today: date, learners: int) -> dict[str, Any]:
    """One sample session: past ones are completed with an attendance count."""
    module_no, name, offset, clock, minutes, trainer_no, room_key, description = row
    start = datetime.combine(today + timedelta(days=offset), time.fromisoformat(clock))
    trainer = _TRAINERS[trainer_no]
    room = _ROOMS[room_key] if room_key else None
    past = offset < 0
    return make_session(
        zoho_id(400000 + number),
        zoho_id(300000 + module_no),
        name,
        start,
        minutes,
        description=description,
        sessionType="Classroom" if room else "E-learning",
        sessionRoom=room.name if room else "",
        roomId=room.room_id if room else "",
        sessionTrainer=trainer.display_name,
        trainerErecno=trainer.erecno,
        totalLearnersCount=learners,
        presentLeanersCount=max(learners - 1, 0) if past else 0,
        isSessionCompleted=past,
    )


def sample_org(today: date, settings: OrgSettings | None = None) -> Org:
    """A small realistic org whose sessions sit around `today`.

    3 blended courses, 5 batches, 11 modules ("Introduction" in two batches,
    "Sécurité au travail" accented), 26 sessions from 7 days ago to 30 days
    ahead (two today, one from 10:30 PM to 12:30 AM), 5 trainers (one inactive).
    Times are wall clock, so they read the same in whatever zone `settings` names.
    """
    courses = {n: Course(zoho_id(100000 + n), name, description=d) for n, (name, d) in _COURSES.items()}
    batches: dict[int, Batch] = {}
    for n, (name, learners, course_no) in _BATCHES.items():
        batches[n] = Batch(zoho_id(200000 + n), name, learners_count=learners)
        courses[course_no].batches.append(batches[n])
    modules: dict[int, Module] = {}
    for n, (name, batch_no) in _MODULES.items():
        modules[n] = Module(zoho_id(300000 + n), name)
        batches[batch_no].modules.append(modules[n])
    for number, row in enumerate(_SCHEDULE, start=1):
        batch = batches[_MODULES[row[0]][1]]
        modules[row[0]].sessions.append(_scheduled_session(row, number, today, batch.learners_count))
    trainers = [replace(t) for t in _TRAINERS]
    return Org(courses=list(courses.values()), trainers=trainers, settings=settings or OrgSettings())


def module_with_sessions(n: int, today: date | None = None, settings: OrgSettings | None = None) -> Org:
    """An org with one course, batch and module holding `n` sessions (for paging tests).

    Session k (1-based) is "Session k", id `zoho_id(900000 + k)`, on day k-1 from
    `today` at 9:00 AM wall clock. Ids: course 190001, batch 290001, module 390001 (via zoho_id).
    """
    first_day = today or date.today()
    module = Module(zoho_id(390001), "Paged Module")
    trainer = _TRAINERS[0]
    for k in range(1, n + 1):
        start = datetime.combine(first_day + timedelta(days=k - 1), time(9, 0))
        module.sessions.append(
            make_session(
                zoho_id(900000 + k),
                module.module_id,
                f"Session {k}",
                start,
                sessionTrainer=trainer.display_name,
                trainerErecno=trainer.erecno,
                sessionRoom=_ROOMS["one"].name,
                roomId=_ROOMS["one"].room_id,
            )
        )
    batch = Batch(zoho_id(290001), "Paged Batch", modules=[module], learners_count=5)
    course = Course(zoho_id(190001), "Paging Course", batches=[batch])
    return Org(courses=[course], trainers=[replace(trainer)], settings=settings or OrgSettings())


def large_org(
    today: date,
    courses: int = 10,
    batches_per_course: int = 2,
    modules_per_batch: int = 10,
    sessions_per_batch: tuple[int, int] = (60, 200),
    seed: int = 7,
) -> Org:
    """A realistic organisation for load tests and the working-day benchmark.

    Each batch holds between `sessions_per_batch` sessions spread over its modules,
    from 30 days before `today` to 60 days after (Zoho returns past sessions too),
    at whole or half hours between 8:00 and 17:30. Ids come from fixed ranges, so
    the same arguments always give the same org.
    """
    rng = random.Random(seed)
    trainers = [replace(t) for t in _TRAINERS]
    org = Org(trainers=trainers)
    session_number = itertools.count(1)
    for c in range(courses):
        course = Course(zoho_id(700000 + c), f"Course {c + 1:02d}")
        for b in range(batches_per_course):
            batch_index = c * batches_per_course + b
            batch = Batch(zoho_id(710000 + batch_index), f"Cohort {b + 1}", learners_count=rng.randint(5, 40))
            modules = [
                Module(
                    zoho_id(720000 + batch_index * modules_per_batch + m),
                    f"Module {c + 1:02d}.{b + 1}.{m + 1:02d}",
                )
                for m in range(modules_per_batch)
            ]
            for _ in range(rng.randint(*sessions_per_batch)):
                module = rng.choice(modules)
                number = next(session_number)
                day = today + timedelta(days=rng.randint(-30, 60))
                start = datetime.combine(day, time(8 + rng.randint(0, 9), rng.choice((0, 30))))
                trainer = rng.choice(trainers)
                module.sessions.append(
                    make_session(
                        zoho_id(800000 + number),
                        module.module_id,
                        f"Session {number}",
                        start,
                        minutes=rng.choice((30, 60, 90, 120)),
                        sessionTrainer=trainer.display_name,
                        trainerErecno=trainer.erecno,
                    )
                )
            batch.modules = modules
            course.batches.append(batch)
        org.courses.append(course)
    return org
