"""Route a user's sentence to an action, and translate the backend's GUI talk into client actions.

The published NemoVideo skill answers some requests itself instead of sending them to the backend
agent (docs/protocol.md, "What a sentence asks for"): export, credits, status and upload are API calls
that cost nothing and never go through chat; everything else is an editing or generation request
for the agent::

    route("export 1080p MP4")            # Intent(action='export', format='mp4', resolution='1080p')
    route("查一下余额").action            # 'credits'
    route("add an export-style title")   # Intent(action='chat', ...): an edit that mentions a word
    route("", attachments=["a.jpg"])     # Intent(action='upload', ...)

A sentence is a command only when each of its clauses is one (or is politeness such as "thanks"),
so an edit that merely mentions "export" or "credits" stays an edit. The backend talks as if a GUI
existed ("click the Export button to download the MP4"); ``translate_gui`` strips that talk and says
which client action it stands for::

    t = translate_gui("Your video is ready. Click the Export button to download it.")
    t.text, t.action                     # ('Your video is ready.', 'export')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import attrs

from nemovideo.assistant import _rules as rules
from nemovideo.assistant._rules import Action

__all__ = ["ACTIONS", "Action", "GuiTranslation", "Intent", "normalize", "route", "translate_gui"]

ACTIONS: tuple[Action, ...] = ("export", "credits", "state", "upload", "chat")

_MAX_CLAUSE = 200


@attrs.frozen
class Intent:
    """What a user's sentence asks for.

    ``action`` is one of ``ACTIONS``; only ``"chat"`` goes to the backend agent. Export parameters
    are set when the user states them ("export 1080p MP4" -> ``format="mp4"``,
    ``resolution="1080p"``). ``then`` is the next thing to do when the sentence asks for more than
    one (files attached *and* an instruction: upload, then the instruction). ``reason`` names the
    rule that decided, for logs and debugging.
    """

    action: Action
    text: str
    reason: str
    format: str | None = None
    quality: str | None = None
    resolution: str | None = None
    then: Intent | None = None

    @property
    def params(self) -> dict[str, str]:
        """The stated export parameters only, ready for ``session.export(**intent.params)``-style use."""
        values = {"format": self.format, "quality": self.quality, "resolution": self.resolution}
        return {k: v for k, v in values.items() if v is not None}

    @property
    def via_chat(self) -> bool:
        """Whether the sentence goes to the backend agent (docs/protocol.md: "sent to the agent?")."""
        return self.action == "chat"


@attrs.frozen
class GuiTranslation:
    """The backend's reply with its GUI instructions removed.

    ``text`` keeps every sentence that was not a GUI instruction, verbatim. ``action`` is the client
    action the instructions stood for (export > upload > credits > state > chat when there were
    several; "chat" for an edit done by hand in the GUI, which this client sends as a message), or
    None when the reply had no GUI talk; ``actions`` lists them all in order. ``hint``
    is one line telling the user how to get that action from this client, and ``removed`` holds the
    instructions that were stripped.
    """

    text: str
    action: Action | None = None
    actions: tuple[Action, ...] = ()
    hint: str | None = None
    removed: tuple[str, ...] = ()


def normalize(text: str) -> str:
    """NFKC (full-width letters and punctuation become ASCII), case-folded, one space between words,
    no spaces next to CJK characters, straight apostrophes, and the traditional forms of the
    routing words mapped to simplified ("導出" -> "导出")."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.translate(rules.QUOTES).translate(rules.TRADITIONAL)
    folded = rules.WHITESPACE.sub(" ", folded).strip()
    return rules.CJK_SPACE.sub("", folded)


def route(text: str, attachments: Sequence[object] = ()) -> Intent:
    """Decide what ``text`` (with ``attachments``, e.g. file paths) asks for.

    Rules (docs/protocol.md, "What a sentence asks for"): export / 导出 / download / send me the
    video -> export;
    credits / 积分 / balance / 余额 -> credits; status / 状态 / show tracks -> state; upload / 上传 or
    a file attached -> upload; anything else -> chat. Attachments always route to upload first;
    an instruction that comes with them is routed on its own and kept in ``then``.
    """
    if attachments:
        follow = _route_text(text)
        if follow.action == "upload" or follow.reason in ("empty", "filler"):
            return attrs.evolve(follow, action="upload", reason="attachments", then=None)
        return Intent("upload", text, "attachments+instruction", then=follow)
    return _route_text(text)


def _route_text(text: str) -> Intent:
    norm = normalize(text)
    clauses = [c for c in (_clean(part) for part in rules.CLAUSE_SPLIT.split(norm)) if c]
    if not clauses:
        return Intent("chat", text, "empty")
    commands: list[tuple[Action, str]] = []
    for clause in clauses:
        if len(clause) > _MAX_CLAUSE:
            return Intent("chat", text, "instruction")
        action = _command(clause)
        if action is None and commands and commands[-1][0] == "export":
            action = "export" if rules.EXPORT_PARAMS.fullmatch(clause) else None
        if action is not None:
            commands.append((action, clause))
        elif not rules.FILLER.fullmatch(clause):
            return Intent("chat", text, "instruction")
    if not commands:
        return Intent("chat", text, "filler")
    steps = _dedupe(commands)
    intent = _intent(*steps[-1], text, then=None)
    for action, clause in reversed(steps[:-1]):
        intent = _intent(action, clause, text, then=intent)
    return intent


def _clean(clause: str) -> str:
    return rules.EDGE_JUNK.sub("", clause).strip()


def _command(clause: str) -> Action | None:
    for action, pattern in rules.COMMANDS:
        if pattern.fullmatch(clause):
            return action
    return None


def _dedupe(commands: list[tuple[Action, str]]) -> list[tuple[Action, str]]:
    """Merge repeats of one action ("export it, as 1080p") so their parameters add up."""
    merged: list[tuple[Action, str]] = []
    for action, clause in commands:
        if merged and merged[-1][0] == action:
            merged[-1] = (action, f"{merged[-1][1]} {clause}")
        else:
            merged.append((action, clause))
    return merged


def _intent(action: Action, clause: str, text: str, *, then: Intent | None) -> Intent:
    reason = f"{action}:{'zh' if rules.CJK.search(clause) else 'en'}"
    if action != "export":
        return Intent(action, text, reason, then=then)
    fmt = rules.FORMAT_RE.search(clause)
    return Intent(
        action,
        text,
        reason,
        format=fmt.group(1) if fmt else None,
        quality=_first(rules.QUALITIES, clause),
        resolution=_first(rules.RESOLUTIONS, clause),
        then=then,
    )


def _first(table: tuple[tuple[re.Pattern[str], str], ...], clause: str) -> str | None:
    for pattern, value in table:
        found = pattern.search(clause)
        if found:
            return found.expand(value)
    return None


def translate_gui(text: str) -> GuiTranslation:
    """Strip the backend's GUI instructions from ``text`` and report the client action they imply.

    docs/protocol.md: "click [button]"/点击 -> do it via the API (the button says which action);
    "open [panel]"/打开 -> show state; "drag/drop"/拖拽 -> send the edit via chat (files dragged
    into the upload area -> upload); "preview in timeline" -> show the track summary; "Export
    button"/导出 -> export; "check account/billing" -> credits. Everything else is kept verbatim.
    """
    pieces = rules.SENTENCE_SPLIT.split(text)
    pairs = [
        (pieces[i], pieces[i + 1] if i + 1 < len(pieces) else "") for i in range(0, len(pieces), 2)
    ]
    pairs = _merge_list_markers(pairs)
    kept: list[str] = []
    actions: list[Action] = []
    removed: list[str] = []
    for body, sep in pairs:
        new_body, found, gone = _translate_sentence(body)
        actions += found
        removed += gone
        if new_body:
            kept.append(new_body + sep)
        elif kept and "\n" in sep and not kept[-1].endswith("\n"):
            kept[-1] = kept[-1].rstrip(" \t") + "\n"
    if not removed:
        return GuiTranslation(text)
    action = min(actions, key=rules.PRIORITY.index)
    hint = rules.HINTS[action][1 if rules.CJK.search(text) else 0]
    return GuiTranslation("".join(kept).strip(), action, tuple(actions), hint, tuple(removed))


def _merge_list_markers(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep "1. Click Export" together, so a removed list item takes its number with it."""
    merged: list[tuple[str, str]] = []
    carry = ""
    line_start = True
    for body, sep in pairs:
        marker = line_start and rules.LIST_MARKER.fullmatch(body)
        line_start = "\n" in sep
        if marker and sep and not line_start:
            carry += body + sep
            continue
        merged.append((carry + body, sep))
        carry = ""
    if carry:
        merged.append((carry, ""))
    return merged


def _translate_sentence(body: str) -> tuple[str, list[Action], list[str]]:
    """One sentence: drop its GUI clauses (and the purpose clauses next to them)."""
    if not rules.GUI_HINT.search(normalize(body)):
        return body, [], []
    parts: list[str] = rules.CLAUSE_SEP.split(body)
    clauses = parts[0::2]
    seps = ["", *parts[1::2]]
    verdicts = [_gui_clause(clause) for clause in clauses]
    if all(v is None for v in verdicts):
        return body, [], []
    gui = [v is not None for v in verdicts]
    for i, clause in enumerate(clauses):
        near = (i > 0 and gui[i - 1]) or (i + 1 < len(gui) and gui[i + 1])
        bare = _strip_markup(clause)
        if not gui[i] and (
            not rules.CONNECTIVE.sub("", bare).strip() or (near and rules.SUBORDINATE.match(bare))
        ):
            gui[i] = True
    actions = [v for v in verdicts if v is not None]
    removed = [c.strip() for c, v in zip(clauses, verdicts, strict=True) if v is not None]
    keep = [i for i in range(len(clauses)) if not gui[i]]
    if not keep:
        return "", actions, removed
    out = ""
    for n, i in enumerate(keep):
        clause = clauses[i]
        if n == 0 and i != 0:
            clause = _capitalize(rules.CONNECTIVE.sub("", clause.strip()))
        out += (seps[i] if n else "") + clause
    end = body.rstrip()[-1:]
    if end in ".!?。！？" and not out.rstrip().endswith(end):
        out = out.rstrip().rstrip(",;:，；：") + end
    return out, actions, removed


def _gui_clause(clause: str) -> Action | None:
    """The action a GUI instruction implies, or None when ``clause`` is not one."""
    norm = _strip_markup(normalize(clause))
    for rule in rules.GUI_RULES:
        if rule.pattern.match(norm) and (rule.needs is None or rule.needs.search(norm)):
            return _object_action(rule, norm)
    return None


def _object_action(rule: rules.GuiRule, norm: str) -> Action:
    if rule.objects == "none":
        return rule.default
    hits = [
        (found.start(), action)
        for action, pattern in rules.OBJECTS
        if (rule.objects == "any" or action == rule.objects) and (found := pattern.search(norm))
    ]
    return min(hits)[1] if hits else rule.default


def _strip_markup(clause: str) -> str:
    return rules.MARKUP.sub("", clause).strip()


def _capitalize(clause: str) -> str:
    return clause[:1].upper() + clause[1:]
