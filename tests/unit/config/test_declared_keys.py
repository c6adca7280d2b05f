"""Host and service keys are declared once (recon/config/models.py), notification channel keys
too (recon/config/notify.py); the README's tables and recon.example.toml are made from those
declarations and cannot drift from them."""

from __future__ import annotations

import re
import tomllib

from helpers import ROOT

from recon.config import HostConfig, ServiceConfig, parse_config
from recon.config.declare import REQUIRED, declared
from recon.config.docs import (
    COMMAND,
    example_toml,
    generated,
    markdown_table,
    notify_table,
    readme_block,
)
from recon.config.notify import TABLES, TYPES, ChannelKeys


def test_the_readme_config_table_is_the_declared_one():
    documented = readme_block((ROOT / "README.md").read_text(), "config")
    assert documented == markdown_table(), (
        f"README.md's host and service table differs from recon/config/models.py; run `{COMMAND}`"
        " or paste this between the config markers:\n" + markdown_table())


def test_the_readme_notify_table_is_the_declared_one():
    documented = readme_block((ROOT / "README.md").read_text(), "notify")
    assert documented == notify_table(), (
        f"README.md's notification channel table differs from recon/config/notify.py; run "
        f"`{COMMAND}` or paste this between the notify markers:\n" + notify_table())


def test_the_write_command_fills_in_the_notify_table(tmp_path):
    readme = (ROOT / "README.md").read_text()
    begin, end = "<!-- notify:begin -->\n", "<!-- notify:end -->"
    stale = readme[:readme.index(begin) + len(begin)] + "| old |\n" + readme[readme.index(end):]
    (tmp_path / "README.md").write_text(stale)
    rewritten = generated(tmp_path)[tmp_path / "README.md"]
    assert "| old |" not in rewritten and notify_table() in rewritten


def test_the_example_config_is_the_generated_one_and_parses():
    committed = (ROOT / "recon.example.toml").read_text()
    assert committed == example_toml(), (
        f"recon.example.toml differs from the declarations; run `{COMMAND}`")
    config = parse_config(tomllib.loads(committed), ROOT / "recon.example.toml", ROOT, env={},
                          check_keys=False)
    assert list(config.hosts) == ["media"] and list(config.services) == ["peertube", "downloader"]


def test_the_examples_commented_out_keys_are_valid_once_uncommented():
    text = example_toml().split("# Notifications")[0]
    uncommented = re.sub(r"(?m)^# (?=[a-z_]+ = )", "", text)
    config = parse_config(tomllib.loads(uncommented), ROOT / "recon.toml", ROOT, env={},
                          check_keys=False)
    host, service = config.hosts["media"], config.services["peertube"]
    assert host.host_key and host.terminal_user and service.timer and service.tags
    assert service.allow


def test_every_key_has_a_doc_and_its_default_and_example_pass_its_own_check():
    for cls in (HostConfig, ServiceConfig):
        for key, f, opt in declared(cls):
            assert opt.doc, key
            for value in (f.default, opt.example):
                if value is REQUIRED or value is None:
                    continue
                toml_value = list(value) if isinstance(value, (frozenset, tuple)) else value
                assert opt.problems(toml_value, f.default is REQUIRED) == [], (key, value)


def test_every_channel_type_has_the_common_keys_and_every_channel_key_a_valid_default():
    assert tuple(TABLES) == TYPES  # the types `type` allows are the types with tables
    assert all(tables[0] is ChannelKeys for tables in TABLES.values())
    for tables in TABLES.values():
        for key, f, opt in (row for table in tables for row in declared(table)):
            assert opt.doc, key
            # "" is a key left unset (a secret, a variable's name, a login); a required key's
            # default only fills the field for the types without that key.
            if f.default is REQUIRED or f.default == "" or opt.required:
                continue
            toml_value = list(f.default) if isinstance(f.default, frozenset) else f.default
            assert opt.problems(toml_value, False) == [], (key, f.default)


def test_the_notify_examples_in_the_readme_and_the_example_config_are_valid():
    """Written by hand, so parsed here: a renamed key would make them wrong."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Notifications"):readme.index("## Metrics")]
    block = section[section.index("```toml\n") + 8:]
    block = block[:block.index("```")]
    example = example_toml()
    notify_lines = example[example.index("# Notifications"):]
    uncommented = re.sub(r"(?m)^# (?=\[notify|[a-z_]+ = )", "", notify_lines)
    env = {"RECON_OPS_HOOK_URL": "https://hooks.example.com/x", "RECON_OPS_HOOK_SECRET": "s",
           "RECON_SLACK_URL": "https://chat.example.com/hook", "RECON_SMTP_PASSWORD": "p"}
    hosts = ('[hosts.alpha]\naddress = "10.0.0.1"\nuser = "recon"\nkey = "k"\n'
             '[hosts.media]\naddress = "10.0.0.2"\nuser = "recon"\nkey = "k"\n')
    services = "".join(f'[[services]]\nslug = "{slug}"\nhost = "alpha"\nunit = "{slug}"\n'
                       for slug in ("web", "db"))
    for text, channels in ((block, {"ops-hook", "team-chat", "oncall-mail"}),
                           (uncommented, {"team-chat"})):
        config = parse_config(tomllib.loads(hosts + services + text), ROOT / "recon.toml", ROOT,
                              env=env, check_keys=False)
        assert set(config.notify) == channels
