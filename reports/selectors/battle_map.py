"""The battle map (挂图作战图): every project's nodes on a timeline, a page at a time.

A row is a project; its markers are the nodes the user may see, at the planned date (the
baseline) and at the committed date (the promise), coloured by the node's light. Only the
nodes that touch the date window are drawn, plus the open nodes overdue today whose date
is before it (pinned to the window's left edge: the most urgent of all). A page costs the
same few queries whatever the number of projects: one count, one page of projects, one
page of nodes.
"""

import calendar
import datetime as dt
from dataclasses import dataclass, field, replace

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils.translation import gettext as _

from core.formats import date_cn
from organization.models import Unit
from organization.selectors import user_scope
from projects.models import DisposalLine, Node, Project, WorkStream
from supervision.choices import Light
from supervision.selectors import nodes_with_card, nodes_with_light

PAGE_SIZE = 20
WINDOW_BEFORE_MONTHS = 3
WINDOW_AFTER_MONTHS = 9
WINDOW_MAX_MONTHS = 36
# The axis keeps this share (in %) free at each end, so a marker on the window's edge is whole.
EDGE = 1.5

# One character in the marker, so that a light is told by a word as well as by its colour
# (on a black-and-white print too); the legend spells each one out.
LIGHT_MARKS = {
    Light.DONE: "完",
    Light.RED: "红",
    Light.AWAITING_APPROVAL: "审",
    Light.YELLOW: "黄",
    Light.LAGGING: "滞",
    Light.DUE_SOON: "近",
    Light.ON_TRACK: "正",
}
# The marker's character on its colour: dark on yellow (ui.md) and on the lagging orange
# (white on #FA8C16 is too faint to read, as the light component has it), white on the others.
DARK_TEXT_LIGHTS = {Light.YELLOW, Light.LAGGING}


def mark_ink(light: Light) -> str:
    """The colour of a light's character on its marker and in the legend."""
    return "#3d2b00" if light in DARK_TEXT_LIGHTS else "#ffffff"


# Markers are drawn from the least telling to the most, so that of two nodes due on nearly
# the same day the red card is the one on top.
DRAW_ORDER = [
    Light.DONE,
    Light.ON_TRACK,
    Light.DUE_SOON,
    Light.LAGGING,
    Light.YELLOW,
    Light.AWAITING_APPROVAL,
    Light.RED,
]
# Node labels: 11 px text in lanes around the row's markers. A label is drawn only where it
# does not run into another label of its lane; its width is estimated from its characters
# (a CJK or other wide character 1 em, an ASCII one 0.55 em), against a nominal width of the
# row's track for each output, since the chart's x positions are percentages of it.
LABEL_FONT_PX = 11
LABEL_GAP_EM = 0.5  # the least room between two labels of a lane
# The lanes' text baselines: above the markers, below them, and a second lane below.
LANE_Y = (10, 42, 56)
ROW_HEIGHT = 44  # a row with labels above and below its markers
ROW_HEIGHT_THIRD_LANE = 60  # a row that needs the second lane below


@dataclass(frozen=True)
class Layout:
    """The nominal width (px) of a row's track in an output: node names are placed against
    `names_px`; on a phone, where only numbers are shown, against `numbers_px` (None: the
    output has no phone view)."""

    names_px: int
    numbers_px: int | None = None


# The desk's track at 1280 px wide (929 px measured; 914 px beside a classic scrollbar; less a
# margin); a phone's at 390 px (342 px); the A3 landscape PDF's (400 mm less the 78 mm project
# column: about 1200 px). A wider screen or the browser's A3 print only gives the labels more
# room; a screen between a phone and a 1280 px desk shows the phone's numbers
# (battle_map.css), never names placed for a wider track than it has.
DESK = Layout(names_px=900, numbers_px=340)
PDF_A3 = Layout(names_px=1180)


class CardChoice:
    """The card filter's values: any card in force, the highest one yellow or red, or none."""

    ANY = "any"
    YELLOW = "yellow"
    RED = "red"
    NONE = "none"


def months_add(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (earlier when negative), on the month's last day if shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_default(today: dt.date) -> tuple[dt.date, dt.date]:
    """The window shown when the URL names none: three months back, nine months ahead."""
    return months_add(today, -WINDOW_BEFORE_MONTHS), months_add(today, WINDOW_AFTER_MONTHS)


@dataclass(frozen=True)
class Tick:
    """The first day of a month on the time axis."""

    x: float
    label: str
    short: str  # 3月: on a phone, where 2027年1月 would not fit
    year_start: bool

    @property
    def pos(self) -> str:
        return f"{self.x:.2f}%"


@dataclass(frozen=True)
class Window:
    """The dates the map spans, and where a date falls on it (a percentage of its width)."""

    start: dt.date
    end: dt.date
    today: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def x(self, day: dt.date) -> float:
        """The date's place in % of the width: EDGE at the window's start, 100 - EDGE at its
        end, held between the two."""
        share = min(max((day - self.start).days / self.days, 0.0), 1.0)
        return round(EDGE + share * (100 - 2 * EDGE), 2)

    @property
    def today_shown(self) -> bool:
        return self.start <= self.today <= self.end

    @property
    def today_x(self) -> str:
        return f"{self.x(self.today):.2f}%"

    def ticks(self) -> list[Tick]:
        """The first of each month inside the window, named 3月, or 2027年1月 at a new year."""
        first = dt.date(self.start.year, self.start.month, 1)
        if first < self.start:
            first = months_add(first, 1)
        ticks = []
        day = first
        while day <= self.end:
            year_start = day.month == 1 or not ticks
            label = (
                _("%(y)s年%(m)s月") % {"y": day.year, "m": day.month}
                if year_start
                else _("%(m)s月") % {"m": day.month}
            )
            short = _("%(m)s月") % {"m": day.month}
            ticks.append(Tick(x=self.x(day), label=label, short=short, year_start=day.month == 1))
            day = months_add(day, 1)
        return ticks

    def shifted(self, months: int) -> tuple[dt.date, dt.date]:
        """The same span moved by `months` (the 前移 / 后移 links)."""
        return months_add(self.start, months), months_add(self.end, months)


@dataclass(frozen=True)
class Label:
    """What stands beside a marker: its text ("" for none: the marker alone, its name in its
    tooltip), the lane it is in (0 above the row's markers, 1 below, 2 further below) and how
    it is anchored on the marker's x."""

    text: str = ""
    lane: int = 0
    anchor: str = "middle"

    @property
    def y(self) -> int:
        return LANE_Y[self.lane]


def text_em(text: str) -> float:
    """A text's estimated width in em: an ASCII character 0.55, any other (CJK) 1."""
    return sum(0.55 if ord(char) < 128 else 1.0 for char in text)


@dataclass(frozen=True)
class Marker:
    """One node on a row: where its baseline and its promise fall, its light and its words."""

    node_id: int
    seq: int
    name: str
    unit_name: str
    light: Light
    planned: dt.date
    committed: dt.date | None
    planned_x: float
    held_x: float
    before_window: bool  # its date is before the window: drawn at the left edge
    after_window: bool  # its date is after the window: drawn at the right edge
    title: str  # everything about the node in one line, for the tooltip and screen readers
    name_label: Label = Label()  # at a desk and in a PDF: the name, else the number
    seq_label: Label = Label()  # on a phone: the number only

    @property
    def mark(self) -> str:
        return LIGHT_MARKS[self.light]

    @property
    def colour(self) -> str:
        return self.light.colour

    @property
    def text_colour(self) -> str:
        return mark_ink(self.light)

    @property
    def held(self) -> dt.date:
        """The date the node is held to: the promise, else the baseline."""
        return self.committed or self.planned

    @property
    def moved(self) -> bool:
        """A promise other than the baseline: both are drawn, joined by a line."""
        return self.committed is not None and self.committed != self.planned

    @property
    def planned_pos(self) -> str:
        return f"{self.planned_x:.2f}%"

    @property
    def held_pos(self) -> str:
        return f"{self.held_x:.2f}%"

    @property
    def line_from(self) -> str:
        return f"{min(self.planned_x, self.held_x):.2f}%"

    @property
    def line_to(self) -> str:
        return f"{max(self.planned_x, self.held_x):.2f}%"

    @property
    def label(self) -> str:
        """The seq and the name, short enough to stand beside the marker on a wall chart."""
        name = self.name if len(self.name) <= 9 else self.name[:8] + "…"
        return self._pointed(f"{self.seq}.{name}")

    @property
    def number(self) -> str:
        """The seq alone: what the marker keeps where its name does not fit."""
        return self._pointed(str(self.seq))

    def _pointed(self, text: str) -> str:
        if self.before_window:
            return f"◀{text}"
        if self.after_window:
            return f"{text}▶"
        return text


@dataclass
class MapRow:
    """One project on the map, with its nodes in sequence order."""

    project: Project
    markers: list[Marker] = field(default_factory=list)

    @property
    def height(self) -> int:
        """The row's height (px) at a desk and in a PDF: taller when a name needs the second
        lane below."""
        return _height(marker.name_label for marker in self.markers)

    @property
    def phone_height(self) -> int:
        """The row's height (px) on a phone, where only the numbers are drawn."""
        return _height(marker.seq_label for marker in self.markers)

    @property
    def drawn(self) -> list[Marker]:
        """The markers in drawing order: the most telling light last, on top."""
        return sorted(self.markers, key=lambda marker: DRAW_ORDER.index(marker.light))

    @property
    def unit_names(self) -> list[str]:
        """The units answering for the nodes shown, each once, in node order."""
        return list(dict.fromkeys(marker.unit_name for marker in self.markers))


def _height(labels) -> int:
    lanes = [label.lane for label in labels if label.text]
    return ROW_HEIGHT_THIRD_LANE if lanes and max(lanes) >= 2 else ROW_HEIGHT


@dataclass
class MapPage:
    """One page of the map: its rows, the paginator's page, and the window."""

    rows: list[MapRow]
    page: Page
    window: Window

    @property
    def light_counts(self) -> dict[Light, int]:
        """How many nodes of each light the page draws (the legend's figures)."""
        counts = {light: 0 for light in Light}
        for row in self.rows:
            for marker in row.markers:
                counts[marker.light] += 1
        return counts


def _shown_nodes(*, user, window: Window, unit: Unit | None) -> QuerySet[Node]:
    """The nodes the map draws: in the user's scope, not archived, of the unit if one is
    chosen, touching the window; or open, overdue today, with their date before the window."""
    nodes = Node.objects.visible_to(user)
    if not user_scope(user=user).sees_all:
        # visible_to is DISTINCT for scoped users; a plain subquery keeps the ordering free.
        nodes = Node.objects.filter(pk__in=nodes.values("pk"))
    nodes = nodes.filter(archived_at__isnull=True, project__archived_at__isnull=True)
    if unit is not None:
        nodes = nodes.filter(unit=unit)
    held = Coalesce("committed_due_date", "due_date")
    nodes = nodes.alias(
        held_date=held,
        first_date=Least("due_date", held),
        last_date=Greatest("due_date", held),
    )
    return nodes.filter(
        Q(first_date__lte=window.end, last_date__gte=window.start)
        | Q(completed_at__isnull=True, held_date__lt=min(window.start, window.today))
    )


def battle_map_projects(
    *,
    user,
    window: Window,
    locality: Unit | None = None,
    unit: Unit | None = None,
    method: str = "",
    card: str = "",
    stream: WorkStream | None = None,
) -> QuerySet[Project]:
    """The projects on the map, in wall-chart order: by locality, by the unit of the first
    node shown, by name. A project is on it when at least one of its nodes is shown; the
    card filter looks at the cards in force on the nodes shown."""
    shown = _shown_nodes(user=user, window=window, unit=unit)
    projects = Project.objects.filter(pk__in=shown.values("project_id"))
    if locality is not None:
        projects = projects.filter(locality=locality)
    if stream is not None:
        projects = projects.filter(work_stream=stream)
    if method:
        lines = DisposalLine.objects.filter(method=method)
        projects = projects.filter(pk__in=lines.values("project_id"))
    if card:
        carded = nodes_with_card(shown)
        if card == CardChoice.ANY or card == CardChoice.NONE:
            carded = carded.filter(card_kind__isnull=False)
        else:
            carded = carded.filter(card_kind=card)
        ids = carded.values("project_id")
        projects = (
            projects.exclude(pk__in=ids) if card == CardChoice.NONE else projects.filter(pk__in=ids)
        )
    first_unit = shown.filter(project=OuterRef("pk")).order_by("seq", "pk").values("unit__name")
    return (
        projects.select_related("locality", "work_stream")
        .annotate(lead_unit=Subquery(first_unit[:1]))
        .order_by("locality__name", "lead_unit", "name", "code")
    )


def battle_map_page(
    *,
    user,
    window: Window,
    page_number=None,
    locality: Unit | None = None,
    unit: Unit | None = None,
    method: str = "",
    card: str = "",
    stream: WorkStream | None = None,
    invalid: bool = False,
    layout: Layout = DESK,
) -> MapPage:
    """One page of the map (PAGE_SIZE projects) with the markers of their shown nodes, their
    labels placed for the `layout`'s output; no rows when the filters are `invalid`."""
    projects = battle_map_projects(
        user=user,
        window=window,
        locality=locality,
        unit=unit,
        method=method,
        card=card,
        stream=stream,
    )
    if invalid:
        projects = projects.none()
    page = Paginator(projects, PAGE_SIZE).get_page(page_number)
    rows = {project.pk: MapRow(project=project) for project in page.object_list}
    if rows:
        nodes = nodes_with_light(
            _shown_nodes(user=user, window=window, unit=unit).filter(project_id__in=rows),
            today=window.today,
        )
        for node in nodes.select_related("unit").order_by("project_id", "seq", "pk"):
            rows[node.project_id].markers.append(_marker(node, window))
        for row in rows.values():
            row.markers = markers_labelled(row.markers, layout=layout)
    return MapPage(rows=list(rows.values()), page=page, window=window)


def _span(x: float, text: str, track_px: int) -> tuple[float, float, str]:
    """Where a text centred on `x` (in %) runs from and to (in %), and its anchor: held inside
    the track near an edge (starting or ending on the marker instead)."""
    width = text_em(text) * LABEL_FONT_PX * 100 / track_px
    if x - width / 2 < 0:
        return x, x + width, "start"
    if x + width / 2 > 100:
        return x - width, x, "end"
    return x - width / 2, x + width / 2, "middle"


def labels_placed(markers: list[Marker], *, track_px: int, names: bool = True) -> list[Label]:
    """The label of each marker (same order as given), placed so that no two labels of a lane
    come closer than LABEL_GAP_EM on a track `track_px` wide.

    The markers are taken the most telling light first (red before yellow … before done),
    then left to right. First each gets its number in the first lane where it fits (in a
    crowd too thick for even that, the least telling keep no label). Then, with `names`,
    each number becomes the full label `seq.name` in the first lane where that fits, giving
    up its own place; where it fits nowhere the number stays. Deterministic: only x, seq and
    light count.
    """
    gap = LABEL_GAP_EM * LABEL_FONT_PX * 100 / track_px
    taken: dict[int, tuple[int, float, float]] = {}  # marker index -> (lane, from, to)
    labels: dict[int, Label] = {}

    def free(lane: int, left: float, right: float, but: int) -> bool:
        return all(
            other == but or other_lane != lane or right + gap <= a or b + gap <= left
            for other, (other_lane, a, b) in taken.items()
        )

    def put(index: int, text: str) -> bool:
        left, right, anchor = _span(markers[index].held_x, text, track_px)
        for lane in range(len(LANE_Y)):
            if free(lane, left, right, but=index):
                taken[index] = (lane, left, right)
                labels[index] = Label(text=text, lane=lane, anchor=anchor)
                return True
        return False

    telling = {light: rank for rank, light in enumerate(reversed(DRAW_ORDER))}
    indices = range(len(markers))
    order = sorted(
        indices, key=lambda i: (telling[markers[i].light], markers[i].held_x, markers[i].seq)
    )
    for index in order:
        put(index, markers[index].number)
    if names:
        for index in order:
            put(index, markers[index].label)
    return [labels.get(index, Label()) for index in indices]


def markers_labelled(markers: list[Marker], *, layout: Layout) -> list[Marker]:
    """The markers with their labels placed for the layout's output: names at its width, and
    numbers at a phone's."""
    names = labels_placed(markers, track_px=layout.names_px)
    numbers = (
        labels_placed(markers, track_px=layout.numbers_px, names=False)
        if layout.numbers_px
        else [Label()] * len(markers)
    )
    return [
        replace(marker, name_label=name, seq_label=number)
        for marker, name, number in zip(markers, names, numbers, strict=True)
    ]


def _marker(node: Node, window: Window) -> Marker:
    held = node.committed_due_date or node.due_date
    light = Light(node.light)
    parts = [
        f"{node.seq}. {node.name}",
        node.unit.name,
        _("计划 %(date)s") % {"date": date_cn(node.due_date, today=window.today, weekday=False)},
    ]
    if node.committed_due_date and node.committed_due_date != node.due_date:
        day = date_cn(node.committed_due_date, today=window.today, weekday=False)
        parts.append(_("承诺 %(date)s") % {"date": day})
    parts.append(str(light.label))
    return Marker(
        node_id=node.pk,
        seq=node.seq,
        name=node.name,
        unit_name=node.unit.name,
        light=light,
        planned=node.due_date,
        committed=node.committed_due_date,
        planned_x=window.x(node.due_date),
        held_x=window.x(held),
        before_window=held < window.start,
        after_window=held > window.end,
        title=" · ".join(parts),
    )
