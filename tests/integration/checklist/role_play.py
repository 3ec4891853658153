"""A play that includes one role of the collection on localhost and saves a registered result as JSON."""

ROLE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    preflight_run_dir: "{run_dir}"
  tasks:
    - ansible.builtin.include_role:
        name: deploysafe.preflight.{role}
    - ansible.builtin.copy:
        content: "{{{{ ({register} | default({{}})) | to_json }}}}"
        dest: "{out}"
      check_mode: false
"""


def role_play(run_dir, role, out, register=None):
    """The play text; `register` defaults to the role's `<role>_result`."""
    return ROLE_PLAY.format(run_dir=run_dir, role=role, register=register or f"{role}_result", out=out)
