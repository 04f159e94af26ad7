"""A build's verdict: about the idea, never about the team's own intermediate artifacts.

A build passes only when the running server answered every acceptance example as written
(and, when there is a page, the page passed its check in a browser). No examples at all is
not a pass: nothing the idea asked was checked. REPORT.md opens with the verdict and every
example, passed or failed, with its evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from autogpt.agents.handoff import ExampleRow, ServerVerification
from autogpt.tools.acceptance import Acceptance


@dataclass(frozen=True)
class Verdict:
    ok: bool
    headline: str
    rows: list[ExampleRow] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        acceptance: Acceptance,
        verification: ServerVerification | None,
        page_ok: bool,
        page_planned: bool,
        tasks_ok: bool,
        malformed: Sequence[str] = (),
        stopped: str = "",
    ) -> Verdict:
        """``malformed``: why a hand-off that arrived could not be read (it then counts as absent);
        ``stopped``: why work was cut short (the build's time limit)."""
        rows = list(verification.acceptance) if verification is not None else []
        reasons = [*malformed, *([stopped] if stopped else [])]
        if not acceptance.examples:
            reasons.append(
                "no acceptance examples: the idea states none and none could be derived, so nothing it asks was checked"
            )
        if verification is None and not malformed:
            reasons.append("the server was not verified: the backend task produced no verification")
        elif acceptance.examples and len(rows) != len(acceptance.examples):
            reasons.append(f"{len(rows)} of {len(acceptance.examples)} acceptance examples were run")
        if acceptance.unchecked:
            said = "; ".join(f"'{rule[:100]}'" for rule in acceptance.unchecked)
            reasons.append(f"the idea states rules that no example checks: {said}")
        failed = [r for r in rows if not r.ok]
        if failed:
            reasons.append(f"{len(failed)} of {len(rows)} acceptance examples failed")
            if all(r.kept_back for r in failed):
                reasons.append(
                    "the server answers the examples its writer was shown, and not the others the idea speaks of"
                )
        if verification is not None and not verification.ok and not failed:
            reasons.append("the server failed its own contract checks")
        if verification is not None and verification.confined is False:
            reasons.append("generated code ran without a confining sandbox (allowed explicitly)")
        if page_planned and not page_ok:
            reasons.append("the page failed its check in the browser")
        if not tasks_ok and not reasons:
            reasons.append("a task failed")
        notes = list(acceptance.notes)
        if acceptance.examples and all(e.source == "derived" for e in acceptance.examples):
            notes.append(
                "every example was derived from the idea's words, none stated by it: check they mean what you meant"
            )
        ok = not reasons
        passed = sum(r.ok for r in rows)
        # What the model read into the idea is not what the idea said: the headline says how much
        # of the pass rests on it (a model can be wrong about a rule, and write the server to match).
        derived = sum(e.source == "derived" for e in acceptance.examples)
        whose = f" ({derived} of them derived by the model from the idea's words)" if derived else ""
        headline = (
            f"PASSED: the running server answered all {passed} acceptance example(s) as the idea asks{whose}"
            if ok
            else "FAILED: " + "; ".join(reasons)
        )
        return cls(ok, headline, rows, reasons, notes)

    def lines(self) -> str:
        """The opening of REPORT.md."""
        out = [f"**Verdict: {self.headline}.**", ""]
        out += [f"- {note}" for note in self.notes]
        if self.notes:
            out.append("")
        if self.rows:
            out += ["## Acceptance examples", "", "| # | Request | Expected | Got | Passed | Evidence |"]
            out.append("|---|---|---|---|---|---|")
            for i, row in enumerate(self.rows, 1):
                evidence = "; ".join(row.problems)[:200].replace("|", "/")
                if row.kept_back:
                    evidence = f"(kept back from the server's writer) {evidence}".rstrip()
                out.append(
                    f"| {i} | `{row.sent or row.example}` | {row.expected.replace('|', '/')[:80]} "
                    f"| {row.status or '-'} | {'yes' if row.ok else '**no**'} | {evidence} |"
                )
            out.append("")
        return "\n".join(out) + "\n"
