# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of the Kubernetes modules, named and resolved like kubernetes.core's.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file (several joined with C(:)), or the kubeconfig itself as a dict.
        Falls back to E(K8S_AUTH_KUBECONFIG).
      - With no connection option at all, in-cluster service-account auth is tried first (the token and CA
        under C(/var/run/secrets/kubernetes.io/serviceaccount) and E(KUBERNETES_SERVICE_HOST)), then the
        default kubeconfig (E(KUBECONFIG) or C(~/.kube/config)).
    type: raw
  context:
    description: Context of the kubeconfig to use. Falls back to E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the API server. Falls back to E(K8S_AUTH_HOST). With O(api_key), or with O(client_cert) and
        O(client_key), no kubeconfig is read.
    type: str
  api_key:
    description:
      - Bearer token. Falls back to E(K8S_AUTH_API_KEY). Never logged; replaces any token or token plugin
        of the kubeconfig.
    type: str
  validate_certs:
    description:
      - Verify the API server's certificate. Falls back to E(K8S_AUTH_VERIFY_SSL) or E(K8S_AUTH_VALIDATE_CERTS)
        (V(0), V(false), V(no) mean false). Unset keeps the kubeconfig's setting (verification by default).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description: CA certificate file to verify the API server with. Falls back to E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description: Client certificate file. Falls back to E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description: Key of O(client_cert). Falls back to E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - URL of an HTTP proxy to the API server. Falls back to E(K8S_AUTH_PROXY). E(HTTP_PROXY) and the like
        are not used.
    type: str
  request_timeout:
    description: Seconds one API request may take before it fails (a stopped API server never hangs the task).
    type: int
    default: 30
requirements:
  - kubernetes (Python library)
notes:
  - Option names, aliases and E(K8S_AUTH_*) variables are those of kubernetes.core, so an AWX Kubernetes
    credential or an existing C(module_defaults) group for kubernetes.core works unchanged. C(username),
    C(password), C(no_proxy), C(proxy_headers), C(persist_config) and impersonation are not supported.
"""
