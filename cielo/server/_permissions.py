"""Which plans and devices each user group may use: the permissions file.

A TOML file of groups, each with glob patterns (``*``, ``?``, ``[...]``)::

    [groups.primary]             # the group of keys created without one
    allowed_plans = ["*"]
    forbidden_plans = ["*_unsafe"]
    allowed_devices = ["*"]
    forbidden_devices = ["shutter"]
    forbidden_functions = ["reset_*"]  # of the profile's [functions] allow

    [groups.agents]
    allowed_plans = ["count", "scan", "adaptive_scan"]
    allowed_devices = ["det*", "motor*"]

    [groups.visitors]
    allowed_proposals = ["P-2024-*"]   # the stored runs they see: by the run's `proposal`

A group sees the stored runs (``/api/runs/...``) whose start document's ``proposal``
matches an ``allowed_proposals`` pattern (default ``["*"]``: every run, with or without
a proposal) and no ``forbidden_proposals`` one; a group whose rules narrow that sees no
run without a proposal. Proposal names are not checked against anything.
A plan (or device) is usable when it matches an ``allowed_`` pattern (default ``["*"]``)
and no ``forbidden_`` one; forbidding a device forbids its sub-devices (``stage`` forbids
``stage.x``). The file is checked when it is loaded (at start and on
``/api/permissions/reload``): an unknown key, a value of the wrong type or a name
without wildcards that names no plan or device of the profile is refused, naming the
file, the group and the key, and the old rules stay in force.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cielo.core.suggest import did_you_mean

from ._access import AccessError
from ._store import Item, QueueError

__all__ = ["GroupRules", "Permissions"]

_KEYS = (
    "allowed_plans",
    "forbidden_plans",
    "allowed_devices",
    "forbidden_devices",
    "allowed_proposals",
    "forbidden_proposals",
    "allowed_functions",
    "forbidden_functions",
)
_WILD = set("*?[")


@dataclass(frozen=True)
class GroupRules:
    """One group's allow and deny patterns."""

    name: str
    allowed_plans: tuple[str, ...] = ("*",)
    forbidden_plans: tuple[str, ...] = ()
    allowed_devices: tuple[str, ...] = ("*",)
    forbidden_devices: tuple[str, ...] = ()
    allowed_proposals: tuple[str, ...] = ("*",)
    forbidden_proposals: tuple[str, ...] = ()
    allowed_functions: tuple[str, ...] = ("*",)
    forbidden_functions: tuple[str, ...] = ()

    @property
    def sees_every_run(self) -> bool:
        """Whether the group's proposal rules leave every stored run visible."""
        return "*" in self.allowed_proposals and not self.forbidden_proposals

    def proposal_refusal(self, proposal: object) -> str | None:
        """Why a run of ``proposal`` (``None``: a run without one) is hidden from this
        group (naming the rule), or ``None``."""
        if self.sees_every_run:
            return None
        if not isinstance(proposal, str):
            return f"a run without a proposal is not shown to group {self.name!r}"
        return self._refusal(
            "proposal", proposal, self.allowed_proposals, self.forbidden_proposals, [proposal]
        )

    def plan_refusal(self, plan: str) -> str | None:
        """Why ``plan`` is refused to this group (naming the rule), or ``None``."""
        return self._refusal("plan", plan, self.allowed_plans, self.forbidden_plans, [plan])

    def function_refusal(self, function: str) -> str | None:
        """Why ``function`` is refused to this group (naming the rule), or ``None``."""
        return self._refusal(
            "function", function, self.allowed_functions, self.forbidden_functions, [function]
        )

    def device_refusal(self, device: str) -> str | None:
        parts = device.split(".")
        names = [".".join(parts[: n + 1]) for n in range(len(parts))]  # stage, stage.x
        return self._refusal("device", device, self.allowed_devices, self.forbidden_devices, names)

    def _refusal(
        self,
        kind: str,
        name: str,
        allowed: Iterable[str],
        forbidden: Iterable[str],
        names: list[str],
    ) -> str | None:
        for pattern in forbidden:
            for candidate in names:
                if fnmatch.fnmatchcase(candidate, pattern):
                    return (
                        f"{kind} {name!r} is forbidden to group {self.name!r} "
                        f"(forbidden_{kind}s pattern {pattern!r})"
                    )
        if not any(fnmatch.fnmatchcase(c, p) for p in allowed for c in names):
            return (
                f"{kind} {name!r} is not allowed to group {self.name!r} "
                f"(allowed_{kind}s: {', '.join(map(repr, allowed)) or 'none'})"
            )
        return None


class Permissions:
    """The groups' rules; without a file every group may use everything."""

    def __init__(self, groups: Mapping[str, GroupRules] | None = None, path: Path | None = None):
        self.groups = dict(groups or {})
        self.path = path
        self.uid = hashlib.sha256(
            json.dumps([str(path), [vars(g) for g in self.groups.values()]]).encode()
        ).hexdigest()[:16]

    @classmethod
    def load(
        cls,
        path: Path | str,
        plans: Iterable[str],
        devices: Iterable[str],
        functions: Iterable[str] = (),
    ) -> Permissions:
        """Read and check ``path`` against the profile's ``plans``, ``devices`` and
        ``functions``."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise QueueError(f"cannot read the permissions file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise QueueError(f"permissions file {path}: not valid TOML: {exc}") from None
        extra = sorted(set(data) - {"groups"})
        if extra or not isinstance(data.get("groups"), dict) or not data["groups"]:
            raise QueueError(
                f"permissions file {path}: it holds one table, [groups.<name>] per group"
                + (f"; unknown key(s) {extra}" if extra else "; no group is defined")
            )
        known: dict[str, set[str] | None] = {
            "plans": set(plans),
            "devices": set(devices),
            "functions": set(functions),
            "proposals": None,  # names of the catalog's runs: nothing to check them against
        }
        groups = {}
        for name, table in data["groups"].items():
            where = f"permissions file {path}: [groups.{name}]"
            if not isinstance(table, dict):
                raise QueueError(f"{where} must be a table of {', '.join(_KEYS)}")
            unknown = sorted(set(table) - set(_KEYS))
            if unknown:
                raise QueueError(f"{where}: unknown key(s) {unknown}; keys: {', '.join(_KEYS)}")
            for key, patterns in table.items():
                _check_patterns(f"{where} {key}", patterns, known[key.split("_")[1]])
            groups[name] = GroupRules(name, **{k: tuple(v) for k, v in table.items()})
        return cls(groups, path)

    def rules(self, group: str) -> GroupRules:
        """The rules of ``group``; a group the file does not define may use nothing."""
        if self.path is None:
            return GroupRules(group)
        rules = self.groups.get(group)
        if rules is None:
            raise AccessError(
                f"group {group!r} is not in the permissions file {self.path}; "
                f"add [groups.{group}] there (groups: {', '.join(sorted(self.groups))})"
            )
        return rules

    def check_item(self, item: Item, group: str, devices: Iterable[str]) -> None:
        """:class:`AccessError` naming the rule when ``item`` uses a plan or one of
        ``devices`` (the profile's) that ``group`` may not use."""
        if self.path is None or item.get("item_type") not in ("plan", "function"):
            return
        rules = self.rules(group)
        if item.get("item_type") == "function":
            refused = rules.function_refusal(str(item.get("name")))
            if refused is not None:
                raise AccessError(refused)
            return
        why = rules.plan_refusal(str(item.get("name")))
        if why is None:
            used = _strings([item.get("args"), item.get("kwargs")]) & set(devices)
            why = next(filter(None, map(rules.device_refusal, sorted(used))), None)
        if why is not None:
            raise AccessError(why)

    def allowed(self, names: Mapping[str, Any], kind: str, group: str) -> dict[str, Any]:
        """The entries of ``names`` (plans, devices or functions, by ``kind``) ``group``
        may use."""
        if self.path is None:
            return dict(names)
        rules = self.rules(group)
        refusal = {
            "plans": rules.plan_refusal,
            "functions": rules.function_refusal,
        }.get(kind, rules.device_refusal)
        return {n: v for n, v in names.items() if refusal(n) is None}


def _check_patterns(where: str, patterns: Any, known: set[str] | None) -> None:
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise QueueError(
            f'{where} must be a list of names or glob patterns, e.g. ["count", "det*"]; '
            f"got {patterns!r}"
        )
    for pattern in patterns:
        literal = not (_WILD & set(pattern))
        if literal and known is not None and pattern not in known:
            hint = did_you_mean(pattern, sorted(known), after=" ")
            raise QueueError(
                f"{where}: {pattern!r} names nothing the profile has; {hint}"
                "(a misspelt name would silently allow or forbid nothing)"
            )


def _strings(value: Any) -> set[str]:
    """Every string inside ``value`` (device names in a plan's arguments)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping):
        return _strings(list(value.values())) | {k for k in value if isinstance(k, str)}
    if isinstance(value, list | tuple):
        return set().union(*map(_strings, value)) if value else set()
    return set()
