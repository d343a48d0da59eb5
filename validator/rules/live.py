"""AV501-AV503: rules only a live audit can evaluate (cluster state, drift, refused calls)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from validator import facts
from validator.lazy_dataclass import lazy_dataclass
from validator.model import NOWHERE, Cluster, Deployment, Location, Value
from validator.rules.base import ClusterRule, Result, Rule, Severity, Status
from validator.rules.helpers import engine_support_of, open_cidrs

LIVE = frozenset({"live"})
POLICY_FILE = "policy/aurora-validate-readonly-policy.json"


class StoppedCluster(ClusterRule):
    id = "AV501"
    title = "The cluster is not left stopped"
    severity = Severity.WARNING
    rationale = (
        "AWS starts a stopped Aurora cluster again seven days after it was stopped, and bills it from then "
        "on, so stopping is no way to keep an idle cluster cheap. A Serverless v2 cluster with "
        "min_capacity = 0 pauses by itself after seconds_until_auto_pause and resumes on the next "
        "connection, where the engine version supports auto-pause."
    )
    risk = (
        "The cluster starts again unnoticed and is billed at its minimum capacity; while it is stopped, a "
        "knowledge base that uses it cannot sync or answer."
    )
    doc_url = facts.URL_STOP_START
    fix = (
        'resource "aws_rds_cluster" "this" {\n'
        "  serverlessv2_scaling_configuration {\n"
        "    min_capacity             = 0 # auto-pause instead of stopping\n"
        "    max_capacity             = 4\n"
        "    seconds_until_auto_pause = 3600\n"
        "  }\n"
        "}"
    )
    sources = LIVE

    def check_cluster(self, c: Cluster, deployment: Deployment) -> Iterator[Result]:
        where = c.origin
        if c.status is None:
            yield Result(Status.UNRESOLVED, "the cluster status was not reported", c.address, where)
        elif c.status in ("stopped", "stopping"):
            yield self.failed(
                c.address, f"{_name(c)} is {c.status}; {_restart(c)}; {_auto_pause(c)}", where
            )
        else:
            yield self.passed(c.address, f"{_name(c)} is {c.status}", where)


def _name(c: Cluster) -> str:
    return f"cluster {c.identifier.value}" if c.identifier.known else "the cluster"


def _restart(c: Cluster) -> str:
    days = facts.STOPPED_CLUSTER_RESTART_DAYS
    if c.stopped_since:
        try:
            since = dt.datetime.fromisoformat(c.stopped_since)
        except ValueError:
            since = None
        if since is not None:
            when = since + dt.timedelta(days=days)
            return (
                f"AWS starts it again at {when.strftime('%Y-%m-%d %H:%M UTC')}, {days} days after it was "
                f"stopped at {since.strftime('%Y-%m-%d %H:%M UTC')}"
            )
    return f"AWS starts it again within {days} days of the stop (the stop time is not reported)"


def _auto_pause(c: Cluster) -> str:
    s = c.scaling
    if s is not None and s.min_capacity.known and s.min_capacity.value == 0:
        return (
            "min_capacity is already 0, so a running cluster pauses by itself: start it and leave it running"
        )
    support, _ = engine_support_of(c)
    version = c.engine_version.value if c.engine_version.known else "?"
    if support is None or support.auto_pause is None:
        return (
            "auto-pause (min_capacity = 0) is the better tool where the engine version allows it "
            f"(unknown for {version})"
        )
    if support.auto_pause:
        return f"auto-pause (min_capacity = 0) is the better tool and engine version {version} supports it"
    first = facts.minimum_for("auto_pause", str(version))
    needs = f"; it needs {first} or later" if first else ""
    return (
        f"auto-pause (min_capacity = 0) is the better tool, but engine version {version} does not support "
        f"it{needs}"
    )


# --------------------------------------------------------------------------- #
# Drift


@lazy_dataclass(frozen=True)
class Side:
    """One side of a comparison: a value (or unknown reason) and where it comes from."""

    value: Any
    origin: Location
    reason: str = ""  # non-empty: unknown

    @property
    def known(self) -> bool:
        return not self.reason


def _side(v: Value[Any] | None, fallback: Location, normalize: Callable[[Any], Any] = lambda x: x) -> Side:
    if v is None:
        return Side(None, fallback)
    if not v.known:
        return Side(None, v.origin if v.origin != NOWHERE else fallback, v.reason or "not known")
    return Side(normalize(v.value), v.origin if v.origin != NOWHERE else fallback)


def _bool(raw: Any) -> bool | None:
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        return raw.strip().lower() == "true"
    return bool(raw)


def _num(raw: Any) -> Any:
    """``raw`` as a float (None stays None); ``raw`` itself when it is not a number."""
    try:
        return None if raw is None else float(raw)
    except (TypeError, ValueError):
        return raw


def _text(raw: Any) -> str | None:
    return None if raw is None else str(raw)


def _scaling(c: Cluster, attr: str) -> Side:
    if c.scaling is None:
        return Side(None, c.origin)
    origin = c.scaling.origin if c.scaling.origin != NOWHERE else c.origin
    return _side(getattr(c.scaling, attr), origin, _num)


def _classes(c: Cluster) -> Side:
    classes: list[str] = []
    for inst in c.instances:
        side = _side(inst.instance_class, inst.origin, _text)
        if not side.known:
            return side
        classes.append(str(side.value))
    origin = c.instances[0].instance_class.origin if c.instances else c.origin
    return Side(tuple(sorted(classes)), origin if origin != NOWHERE else c.origin)


def _public(c: Cluster) -> Side:
    by_id: dict[str, bool] = {}
    anonymous: list[bool] = []
    origin = c.instances[0].publicly_accessible.origin if c.instances else c.origin
    for inst in c.instances:
        side = _side(inst.publicly_accessible, inst.origin, _bool)
        if not side.known:
            return side
        if inst.identifier.known:
            by_id[str(inst.identifier.value)] = bool(side.value)
        else:
            anonymous.append(bool(side.value))
    return Side((by_id, tuple(sorted(anonymous))), origin if origin != NOWHERE else c.origin)


def _port(c: Cluster) -> int:
    if c.port.known and c.port.value not in (None, ""):
        try:
            return int(c.port.value)
        except (TypeError, ValueError):
            pass
    return facts.DEFAULT_PORT


def _open_ingress(c: Cluster, port: int) -> Side:
    """The rules that open ``port`` to 0.0.0.0/0 or ::/0, as comparable text."""
    refs = c.security_group_refs
    if refs is not None and not refs.known:
        return Side(None, refs.origin if refs.origin != NOWHERE else c.origin, refs.reason or "not known")
    opened: set[str] = set()
    origin = c.security_groups[0].origin if c.security_groups else c.origin
    for sg in c.security_groups:
        for rule in sg.ingress:
            cidrs, unknown = open_cidrs(rule.cidr_blocks)
            covers = rule.covers_port(port)
            if unknown and covers is not False:
                return Side(None, rule.origin, rule.cidr_blocks.reason or "an ingress CIDR is not known")
            if not cidrs:
                continue
            if covers is None:
                return Side(None, rule.origin, "an ingress rule's ports or protocol are not known")
            if covers:
                for cidr in cidrs:
                    opened.add(f"{_ports(rule)} from {cidr}")
    return Side(tuple(sorted(opened)), origin)


def _ports(rule: Any) -> str:
    proto = str(rule.protocol.value).lower()
    if proto in ("-1", "all"):
        return "all traffic"
    lo, hi = int(rule.from_port.value), int(rule.to_port.value)
    name = "tcp" if proto in ("tcp", "6") else proto
    return f"{name} {lo}" if lo == hi else f"{name} {lo}-{hi}"


def _show(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict):
        named = [f"{k}={str(v).lower()}" for k, v in sorted(value[0].items())]
        return ", ".join(named + [str(v).lower() for v in value[1]]) or "no instances"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _same_version(tf: Any, live: Any) -> bool:
    """Terraform may name only a major ("16") or a prefix of the version AWS runs."""
    if tf is None or live is None:
        return bool(tf == live)
    tf_s, live_s = str(tf), str(live)
    return tf_s == live_s or live_s.startswith(tf_s + ".")


def _same_public(tf: Any, live: Any) -> bool:
    tf_ids, tf_anon = tf
    live_ids, live_anon = live
    common = set(tf_ids) & set(live_ids)
    if common:
        return all(tf_ids[i] == live_ids[i] for i in common)
    tf_any = any(tf_ids.values()) or any(tf_anon)
    live_any = any(live_ids.values()) or any(live_anon)
    return tf_any == live_any


def _drift_pairs(tf: Cluster, live: Cluster) -> list[tuple[str, Side, Side, Callable[[Any, Any], bool]]]:
    eq: Callable[[Any, Any], bool] = lambda a, b: a == b  # noqa: E731
    port = _port(live)
    return [
        ("engine", _side(tf.engine, tf.origin, _text), _side(live.engine, live.origin, _text), eq),
        (
            "engine_mode",
            _side(tf.engine_mode, tf.origin, _text),
            _side(live.engine_mode, live.origin, _text),
            eq,
        ),
        (
            "engine_version",
            _side(tf.engine_version, tf.origin, _text),
            _side(live.engine_version, live.origin, _text),
            _same_version,
        ),
        (
            "iam_database_authentication_enabled",
            _side(tf.iam_auth, tf.origin, _bool),
            _side(live.iam_auth, live.origin, _bool),
            eq,
        ),
        (
            "enable_http_endpoint",
            _side(tf.http_endpoint, tf.origin, _bool),
            _side(live.http_endpoint, live.origin, _bool),
            eq,
        ),
        ("instance_class", _classes(tf), _classes(live), eq),
        ("min_capacity", _scaling(tf, "min_capacity"), _scaling(live, "min_capacity"), eq),
        ("max_capacity", _scaling(tf, "max_capacity"), _scaling(live, "max_capacity"), eq),
        (
            "storage_encrypted",
            _side(tf.storage_encrypted, tf.origin, _bool),
            _side(live.storage_encrypted, live.origin, _bool),
            eq,
        ),
        (
            "deletion_protection",
            _side(tf.deletion_protection, tf.origin, _bool),
            _side(live.deletion_protection, live.origin, _bool),
            eq,
        ),
        ("publicly_accessible", _public(tf), _public(live), _same_public),
        (f"ingress to port {port} from the internet", _open_ingress(tf, port), _open_ingress(live, port), eq),
    ]


def _in_root(origin: Location, root: str) -> Location:
    """A Terraform location as seen from the current directory (the declaring root joined in)."""
    if not origin.file or not root or root in (".", "") or origin.file.startswith(root.rstrip("/") + "/"):
        return origin
    return Location(
        file=f"{root.rstrip('/')}/{origin.file}", line=origin.line, api_call=origin.api_call, arn=origin.arn
    )


def _named(c: Cluster) -> bool:
    """Whether the Terraform cluster's identifier is known (not computed, not left to Terraform)."""
    return c.identifier.known and not c.identifier.defaulted and c.identifier.value not in (None, "")


def match_cluster(live: Cluster, declared: Deployment) -> Cluster | None:
    """The Terraform cluster with the live cluster's identifier, else the only one if its identifier is unknown."""
    if live.identifier.known:
        for c in declared.clusters:
            if c.identifier.known and str(c.identifier.value) == str(live.identifier.value):
                return c
    if len(declared.clusters) == 1 and not (live.identifier.known and _named(declared.clusters[0])):
        return declared.clusters[0]
    return None


class Drift(Rule):
    id = "AV502"
    title = "The deployed cluster matches its Terraform configuration"
    severity = Severity.WARNING
    rationale = (
        "A change made outside Terraform (in the console, the CLI or by another tool) is undone by the "
        "next apply or, worse, silently kept while the code says otherwise; the invariants this project "
        "checks hold only if the deployment is the code."
    )
    risk = (
        "The next terraform apply reverts a fix made by hand, or the reviewed code no longer describes the "
        "cluster that holds the knowledge base."
    )
    doc_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html"
    fix = (
        "# Either bring the change into the code and apply it, or revert it:\n"
        "#   terraform plan   # shows the same difference\n"
        "#   terraform apply  # puts the cluster back to the code"
    )
    sources = LIVE

    def check(self, deployment: Deployment) -> Iterator[Result]:
        declared = deployment.declared
        if declared is None:
            return
        for live in deployment.clusters:
            tf = match_cluster(live, declared)
            if tf is None:
                yield Result(
                    Status.UNRESOLVED,
                    f"drift cannot be determined: no Terraform cluster in {declared.root} has the identifier "
                    f"{live.identifier.get('?')!r} (it has {len(declared.clusters)} clusters)",
                    live.address,
                    live.origin,
                )
                continue
            yield from self._compare(tf, live, declared.root)

    def _compare(self, tf: Cluster, live: Cluster, root: str) -> Iterator[Result]:
        drifted = 0
        compared: list[str] = []
        for name, want, have, same in _drift_pairs(tf, live):
            tf_at = _in_root(want.origin, root)
            if not want.known or not have.known:
                side, why = ("Terraform", want.reason) if not want.known else ("live", have.reason)
                yield Result(
                    Status.UNRESOLVED,
                    f"drift in {name} cannot be determined: the {side} value is unknown ({why})",
                    live.address,
                    tf_at if not want.known else have.origin,
                )
                continue
            compared.append(name)
            if not same(want.value, have.value):
                drifted += 1
                yield self.failed(
                    live.address,
                    f"{name} drifted: Terraform has {_show(want.value)} ({tf_at}), the deployed cluster has "
                    f"{_show(have.value)} ({have.origin})",
                    tf_at,
                )
        if not drifted and compared:
            yield self.passed(
                live.address,
                f"no drift from {root} in {len(compared)} compared settings ({', '.join(compared)})",
                _in_root(tf.origin, root),
            )


# --------------------------------------------------------------------------- #
# Refused calls


class RefusedCalls(Rule):
    id = "AV503"
    title = "AWS answered every call the audit makes"
    severity = Severity.INFO
    rationale = (
        "A read-only audit that is refused a call must say so: tools that treat AccessDenied as "
        "'no resources' report a clean account they never saw. The audit goes on where it can (engine "
        "support from the facts table, unknown values reported as unresolved) and names the permission "
        f"to grant; {POLICY_FILE} lists every call it makes."
    )
    risk = "Checks silently pass or go missing because the audit could not read what they need."
    doc_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html"
    fix = (
        "# Attach the least-privilege read-only policy to the role that runs the audit:\n"
        f"#   aws iam put-role-policy --role-name ROLE --policy-name aurora-validate \\\n"
        f"#     --policy-document file://{POLICY_FILE}"
    )
    sources = LIVE

    def check(self, deployment: Deployment) -> Iterator[Result]:
        refused = list(deployment.refused_calls)
        # A region read without clusters (unlisted, or only knowledge bases): the calls are its own.
        subjects = [(c.address, c.arn, c.origin) for c in deployment.clusters] or (
            [(deployment.root, None, Location(api_call=refused[0].operation))] if refused else []
        )
        for address, arn, origin in subjects:
            if not refused:
                yield self.passed(address, "every AWS call of the audit was answered", origin)
            for r in refused:
                grant = f"; grant {r.operation} ({POLICY_FILE})" if r.denied else ""
                yield self.failed(
                    address,
                    f"{r.reason}: {r.consequence}{grant}",
                    Location(api_call=r.operation, arn=arn),
                )
