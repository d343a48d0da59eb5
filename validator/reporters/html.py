"""One self-contained HTML page: the findings table with filters, and a picture of each deployment.

The page needs no network: CSS and JavaScript are inline and a Content-Security-Policy
forbids every fetch. Every text from the input (resource names, messages, CIDRs) is
escaped; the master password is never read, and a ``Secret`` shows as ``****``.

Filters: a severity and a rule select; the page reads and writes them in the URL
fragment (``report.html#severity=error&rule=AV301``), so a filtered view can be linked.
Failing parts of a deployment have a red border and name the failing rule ids.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

from validator import __version__
from validator.findings import Finding, Report
from validator.model import Cluster, Deployment, IngressRule, KnowledgeBase, Secret, SecurityGroup, Value
from validator.reporters.common import display_path, ordered
from validator.rules import Status

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f23}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;
vertical-align:top}th{background:#f6f8fa}tr.error td:first-child{border-left:4px solid #cf222e}
tr.warning td:first-child{border-left:4px solid #bf8700}tr.info td:first-child{border-left:4px solid #0969da}
tr.unresolved td:first-child{border-left:4px solid #8c959f}
.sev{font-weight:600}.filters{margin:.5em 0}.filters label{margin-right:1em}
.summary span{margin-right:1em}
.dep{border:1px solid #8c959f;border-radius:6px;padding:.75em;margin:1em 0}
.box{border:2px solid #57606a;border-radius:4px;padding:.4em .6em;margin:.4em;display:inline-block;
vertical-align:top;background:#fff}
.box.fail{border-color:#cf222e;background:#fff5f5}.box h3,.box h4{margin:.1em 0;font-size:1em}
.fails{color:#cf222e;font-weight:600;font-size:.9em}
.row{display:flex;flex-wrap:wrap;align-items:flex-start}.az{border:1px dashed #8c959f;padding:.3em;margin:.3em}
.kv{font-size:.9em;color:#57606a}code{font-size:.9em}td code{word-break:break-all}
"""

SCRIPT = """
(function(){
  var rows=Array.prototype.slice.call(document.querySelectorAll('#findings tbody tr'));
  var sev=document.getElementById('f-severity'), rule=document.getElementById('f-rule');
  var want={severity:'',rule:''};
  function read(){
    want={severity:'',rule:''};
    location.hash.replace(/^#/,'').split('&').forEach(function(p){
      var kv=p.split('=');if(kv[0] in want)want[kv[0]]=decodeURIComponent(kv[1]||'');});
    sev.value=want.severity; rule.value=want.rule;
  }
  function apply(){
    var shown=0;
    rows.forEach(function(r){
      var ok=(!want.severity||r.dataset.severity===want.severity)&&(!want.rule||r.dataset.rule===want.rule);
      r.hidden=!ok; if(ok)shown++;
    });
    document.getElementById('shown').textContent=String(shown);
  }
  function write(){
    want={severity:sev.value,rule:rule.value};
    var parts=[];if(want.severity)parts.push('severity='+encodeURIComponent(want.severity));
    if(want.rule)parts.push('rule='+encodeURIComponent(want.rule));
    history.replaceState(null,'',parts.length?'#'+parts.join('&'):location.pathname);apply();
  }
  sev.addEventListener('change',write);rule.addEventListener('change',write);
  window.addEventListener('hashchange',function(){read();apply();});
  read();apply();document.body.dataset.ready='1';
})();
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _show(value: Value[Any] | None) -> str:
    """A model value as escaped text: the value, or why it is unknown; never a secret."""
    if value is None:
        return "-"
    if not value.known:
        return f"<i>unknown: {_e(value.reason)}</i>"
    raw = value.value
    if isinstance(raw, Secret):
        return "****"
    if isinstance(raw, (list, tuple)):
        return _e(", ".join("****" if isinstance(x, Secret) else str(x) for x in raw)) or "-"
    return "-" if raw is None else _e(raw)


def _row_class(f: Finding) -> str:
    return "unresolved" if f.status is Status.UNRESOLVED else f.severity.value if f.status is Status.FAIL else "pass"


def _where(f: Finding) -> str:
    loc = f.result.location
    if loc.file:
        path = display_path(f.root, loc.file)
        return f"{path}:{loc.line}" if loc.line else path
    return str(loc) if str(loc) != "<unknown>" else (loc.via or "")


def _findings_table(findings: list[Finding]) -> str:
    rows = []
    for f in findings:
        cls = _row_class(f)
        rows.append(
            f'<tr class="{cls}" data-severity="{cls}" data-rule="{_e(f.rule_id)}">'
            f'<td class="sev">{_e(cls)}</td><td><a href="{_e(f.rule.doc_url)}">{_e(f.rule_id)}</a></td>'
            f"<td>{_e(f.rule.title)}</td><td>{_e(f.result.message)}</td><td><code>{_e(f.result.resource)}</code></td>"
            f"<td><code>{_e(_where(f))}</code></td></tr>"
        )
    severities = ["error", "warning", "info", "unresolved"] + (
        ["pass"] if any(_row_class(f) == "pass" for f in findings) else []
    )
    rules = sorted({f.rule_id for f in findings})
    sev_opts = "".join(f'<option value="{_e(s)}">{_e(s)}</option>' for s in severities)
    rule_opts = "".join(f'<option value="{_e(r)}">{_e(r)}</option>' for r in rules)
    return (
        '<div class="filters"><label>Severity <select id="f-severity"><option value="">all</option>'
        f'{sev_opts}</select></label><label>Rule <select id="f-rule"><option value="">all</option>{rule_opts}'
        f'</select></label><span><span id="shown">{len(findings)}</span> of {len(findings)} shown</span></div>'
        '<table id="findings"><thead><tr><th>Severity</th><th>Rule</th><th>Title</th><th>Message</th>'
        f"<th>Resource</th><th>Location</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


class _Failing:
    """Failing (and unresolved) rule ids by resource address or ARN, within one deployment."""

    def __init__(self, findings: list[Finding]) -> None:
        self.by_name: dict[str, set[str]] = defaultdict(set)
        for f in findings:
            if f.status is Status.PASS:
                continue
            for name in (f.result.resource, f.result.location.arn):
                if name:
                    self.by_name[name].add(f.rule_id)

    def of(self, *names: str | None) -> list[str]:
        out: set[str] = set()
        for name in names:
            if name:
                out |= self.by_name.get(name, set())
        return sorted(out)


def _box(kind: str, title: str, body: str, failing: list[str], tag: str = "div") -> str:
    cls = "box fail" if failing else "box"
    fails = f'<div class="fails">fails: {_e(", ".join(failing))}</div>' if failing else ""
    return (
        f'<{tag} class="{cls}" data-kind="{_e(kind)}" data-fails="{_e(" ".join(failing))}">'
        f"<h4>{_e(kind)}: {_e(title)}</h4>{fails}{body}</{tag}>"
    )


def _ingress(rule: IngressRule) -> str:
    ports = (
        f"{_show(rule.from_port)}"
        if rule.from_port.get() == rule.to_port.get()
        else f"{_show(rule.from_port)}-{_show(rule.to_port)}"
    )
    return f"<li>{_show(rule.protocol)} {ports} from {_show(rule.cidr_blocks)}</li>"


def _security_group(sg: SecurityGroup, failing: _Failing) -> str:
    rules = "".join(_ingress(r) for r in sg.ingress) or "<li>no ingress</li>"
    body = f'<div class="kv">name {_show(sg.name)}</div><ul>{rules}</ul>'
    return _box("security group", sg.address, body, failing.of(sg.address))


def _cluster(c: Cluster, failing: _Failing) -> str:
    scaling = (
        f"{_show(c.scaling.min_capacity)}-{_show(c.scaling.max_capacity)} ACU" if c.scaling else "no scaling block"
    )
    facts = (
        f'<div class="kv">identifier {_show(c.identifier)} · {_show(c.engine)} {_show(c.engine_version)} · '
        f"{scaling} · port {_show(c.port)} · encrypted {_show(c.storage_encrypted)} · "
        f"IAM auth {_show(c.iam_auth)} · Data API {_show(c.http_endpoint)} · "
        f"managed password {_show(c.manage_master_password)}</div>"
    )
    instances = "".join(
        _box(
            "instance",
            i.address,
            f'<div class="kv">{_show(i.instance_class)} · public {_show(i.publicly_accessible)}</div>',
            failing.of(i.address),
        )
        for i in c.instances
    )
    network = ""
    if c.subnet_group is not None:
        sg = c.subnet_group
        by_az: dict[str, list[str]] = defaultdict(list)
        subnets = sg.subnets.get() or []
        for subnet in subnets:
            if subnet is None:
                by_az["unknown"].append("<li><i>a subnet that could not be followed</i></li>")
                continue
            az = subnet.availability_zone.get()
            by_az[str(az) if az else "unknown"].append(f"<li><code>{_e(subnet.address)}</code></li>")
        if not sg.subnets.known:
            by_az["unknown"].append(f"<li><i>{_e(sg.subnets.reason)}</i></li>")
        zones = "".join(
            f'<div class="az" data-az="{_e(az)}"><b>{_e(az)}</b><ul>{"".join(items)}</ul></div>'
            for az, items in sorted(by_az.items())
        )
        network = _box("subnet group", sg.address, f'<div class="row">{zones}</div>', failing.of(sg.address))
    groups = "".join(_security_group(g, failing) for g in c.security_groups)
    body = f'{facts}<div class="row">{instances}</div><div class="row">{network}{groups}</div>'
    return _box("cluster", c.address, body, failing.of(c.address, c.arn))


def _knowledge_base(kb: KnowledgeBase, failing: _Failing) -> str:
    body = (
        f'<div class="kv">storage {_show(kb.storage_type)} · table {_show(kb.database_name)}.'
        f"{_show(kb.table_name)} · cluster <code>{_e(kb.cluster_address or '')}</code></div>"
        f'<div class="box" data-kind="secret"><h4>secret</h4><code>{_show(kb.credentials_secret_arn)}</code></div>'
    )
    return _box("knowledge base", kb.address, body, failing.of(kb.address))


def _deployment(dep: Deployment, findings: list[Finding]) -> str:
    failing = _Failing([f for f in findings if f.root == dep.root])
    in_cluster = {g.address for c in dep.clusters for g in c.security_groups}
    parts = [_cluster(c, failing) for c in dep.clusters]
    parts += [_security_group(g, failing) for g in dep.security_groups if g.address not in in_cluster]
    parts += [_knowledge_base(kb, failing) for kb in dep.knowledge_bases]
    if dep.database is not None:
        db = dep.database
        parts.append(
            _box(
                "database",
                db.database_name or db.table_name,
                f'<div class="kv">PostgreSQL {_e(db.server_version)} · vector {_e(db.vector_installed or "absent")}'
                f" · table {_e(db.table_name)}</div>",
                failing.of(db.origin.arn, db.table_name),
            )
        )
    inner = "".join(parts) or "<p>nothing to draw</p>"
    return f'<section class="dep" data-root="{_e(dep.root)}"><h3>{_e(dep.kind)}: {_e(dep.root)}</h3>{inner}</section>'


def render(report: Report, show_passed: bool = False, color: bool = False) -> str:
    findings = ordered(report, show_passed)
    summary = report.summary()
    counts = "".join(f"<span>{_e(k)}: <b>{_e(v)}</b></span>" for k, v in summary.items())
    errors = "".join(f"<li><code>{_e(e.where)}</code>: {_e(e)}</li>" for e in report.errors)
    pictures = "".join(_deployment(d, report.findings) for d in report.deployments)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>aurora-validate report</title><style>{STYLE}</style></head><body>"
        f"<h1>aurora-validate {_e(__version__)} report</h1>"
        f"<p>roots: {_e(', '.join(report.roots))} · profile {_e(report.profile)}</p>"
        f'<div class="summary">{counts}</div>'
        + (f'<h2>Input errors</h2><ul id="input-errors">{errors}</ul>' if errors else "")
        + f"<h2>Findings</h2>{_findings_table(findings)}"
        f'<h2>Deployments</h2><div id="deployments">{pictures or "<p>none</p>"}</div>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
