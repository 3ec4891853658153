"""predeploy.yml's settings: misspelt names, release files, value shapes."""

import re
from pathlib import Path

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.settings import predeploy

REPO = Path(__file__).resolve().parents[5]


def test_a_misspelt_name_is_an_error_naming_both():
    errors, warnings = predeploy.unknown_names(["preflight_pg_hots", "preflight_pg_host"], "group_vars")
    assert errors == ["unknown variable 'preflight_pg_hots' in group_vars: did you mean 'preflight_pg_host'?"]
    assert warnings == []


def test_a_name_far_from_any_setting_only_warns_and_other_names_pass():
    errors, warnings = predeploy.unknown_names(["preflight_my_team_thing", "pg_backup_host", "preflight_run",
                                                "preflight_signoff_by"], "x")
    assert errors == []
    assert warnings == ["unknown variable 'preflight_my_team_thing' in x (not a setting of predeploy.yml)"]


def test_every_setting_the_playbooks_read_is_known():
    # the one list must follow the playbooks: a name they read but the list lacks would be "unknown"
    used = set()
    for playbook in (REPO / "playbooks").glob("*.yml"):
        used |= set(re.findall(r"\bpreflight_[a-z0-9_]+", playbook.read_text()))
    missing = used - predeploy.KNOWN - predeploy.INTERNAL
    assert not missing, missing


def test_release_file_loads_a_mapping(tmp_path):
    path = tmp_path / "release.yml"
    path.write_text("preflight_image: /srv/app.tar\npreflight_manifests: [/srv/k8s]\n")
    assert predeploy.load_release_file(str(path)) == {"preflight_image": "/srv/app.tar",
                                                       "preflight_manifests": ["/srv/k8s"]}
    assert predeploy.load_release_file("") == {}


@pytest.mark.parametrize("text, message", [
    ("preflight_image: [unclosed\n", r"release\.yml is not valid YAML at line \d+"),
    ("- preflight_image\n", r"release\.yml must be a mapping of preflight_\* variables, not a list"),
    ("image: x\n", r"release\.yml: 'image' is not a preflight_\* variable"),
    ("preflight_imgae: x\n", r"unknown variable 'preflight_imgae' in .*release\.yml: did you mean 'preflight_image'"),
    ("preflight_unheard_of_thing: x\n", r"unknown variable 'preflight_unheard_of_thing' in .*release\.yml"),
])
def test_malformed_release_files_name_the_file(tmp_path, text, message):
    path = tmp_path / "release.yml"
    path.write_text(text)
    with pytest.raises(predeploy.SettingsError, match=message):
        predeploy.load_release_file(str(path))


def test_missing_release_file_names_it(tmp_path):
    with pytest.raises(predeploy.SettingsError, match=r"preflight_release_file: .*nope\.yml does not exist"):
        predeploy.load_release_file(str(tmp_path / "nope.yml"))


@pytest.mark.parametrize("value, expected", [
    ("", []), (None, []), ("/a, /b,", ["/a", "/b"]), (["/a", ""], ["/a"]),
])
def test_lists_from_strings_or_lists(value, expected):
    assert predeploy.as_list(value, "preflight_manifests") == expected


@pytest.mark.parametrize("values, message", [
    ({"preflight_pg_port": "54x"}, "preflight_pg_port must be a whole number"),
    ({"preflight_load_time_scale": "fast"}, "preflight_load_time_scale must be a number"),
    ({"preflight_fail_on": "always"}, "preflight_fail_on must be one of"),
    ({"preflight_load_engine": "jmeter"}, "preflight_load_engine must be one of"),
    ({"preflight_load_requests": [{"name": "x"}]}, "preflight_load_requests must be a list of requests"),
    ({"preflight_release": "0.1.0"}, "preflight_release must be a mapping"),
    ({"preflight_pg_backup_method": "barman"}, "preflight_pg_backup_method must be pg_dump or pgbackrest"),
    ({"preflight_pgbackrest_backup_type": "weekly"}, "preflight_pgbackrest_backup_type must be one of"),
])
def test_wrong_shapes_name_the_setting(values, message):
    with pytest.raises(predeploy.SettingsError, match=message):
        predeploy.check_types(values)


def test_defaults_pass_their_own_checks():
    predeploy.check_types(dict(predeploy.DEFAULTS))
    assert not predeploy.SECRETS - set(predeploy.DEFAULTS)


def test_a_list_setting_of_another_type_names_it():
    with pytest.raises(predeploy.SettingsError, match="preflight_manifests must be a list"):
        predeploy.as_list(3, "preflight_manifests")
