"""The sample alerting rules (deploy/prometheus/recon-rules.yml) pass `promtool check rules`."""

from __future__ import annotations

import promtool
from helpers import ROOT
from promtool import needs_promtool


@needs_promtool
def test_the_sample_alerting_rules_pass_promtool():
    path = ROOT / "deploy" / "prometheus" / "recon-rules.yml"
    checked = promtool.run("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert b"3 rules found" in checked.stdout
