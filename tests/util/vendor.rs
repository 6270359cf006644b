//! The vendor's side of a Terraform journey: the real `idcbootstrap-server` on its
//! embedded SQLite database, one tenant with a token, and the local AWS peers its
//! `/test` calls (the STS stand-in, which enforces trust policies and
//! `sts:ExternalId`, and moto's sso-admin). A [`Workspace`] is pointed at it through
//! the provider's `IDCBOOTSTRAP_API_*` variables, as a CI job would set them.

use serde_json::{Value, json};

use super::aws::BlockingPeers;
use super::server::{Api, Deployment, Endpoints, REGION, Server, VENDOR, VENDOR_KEY, uuid};
use super::terraform::Workspace;

/// A vendor API with one tenant, and the AWS peers its test reaches.
pub(crate) struct Vendor {
    // Field order: the server stops before its deployment's data dir and the peers go.
    pub(crate) server: Server,
    pub(crate) deployment: Deployment,
    pub(crate) peers: BlockingPeers,
    pub(crate) tenant: String,
    pub(crate) token: String,
}

impl Vendor {
    /// Starts the peers and a server on SQLite; creates a tenant and its token.
    pub(crate) fn start() -> Vendor {
        let peers = BlockingPeers::start(REGION, VENDOR_KEY, VENDOR);
        let endpoints = Endpoints { sts: peers.sts.endpoint(), sso_admin: peers.moto.endpoint() };
        let mut deployment = Deployment::sqlite(endpoints);
        let server = deployment.start();
        let tenant = uuid();
        let token = deployment.token(&tenant);
        Vendor { server, deployment, peers, tenant, token }
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The tenant's client of the API (the vendor's own calls: rotate, commit).
    pub(crate) fn api(&self) -> Api {
        self.server.api(&self.token, &self.tenant)
    }

    /// Points `ws`'s provider at this API (`IDCBOOTSTRAP_API_*`).
    pub(crate) fn configure(&self, ws: &mut Workspace) {
        ws.set_env("IDCBOOTSTRAP_API_URL", &self.url());
        ws.set_env("IDCBOOTSTRAP_TENANT_ID", &self.tenant);
        ws.set_env("IDCBOOTSTRAP_API_TOKEN", &self.token);
    }

    /// `GET external-id`: the current ID, then the pending one.
    pub(crate) fn external_ids(&self) -> Vec<String> {
        let v = self.api().get("external-id").expect(200);
        [&v["external_id"], &v["external_id_pending"]]
            .into_iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    }

    /// `GET config`.
    pub(crate) fn config(&self) -> Value {
        self.api().get("config").expect(200)
    }

    /// `POST external-id/rotate`: the vendor starts a rotation.
    pub(crate) fn rotate(&self) -> Value {
        self.api().post("external-id/rotate", &json!({})).expect(200)
    }

    /// `POST external-id/commit` without force: needs a passing test with the pending ID.
    pub(crate) fn commit(&self) -> Value {
        self.api().post("external-id/commit", &json!({})).expect(200)
    }

    /// Makes the role `role_arn` exist in the STS stand-in with `trust_policy`, as
    /// applying the quickstart's `aws-role` step would in IAM.
    pub(crate) fn put_role(&self, role_arn: &str, trust_policy: &str) {
        self.peers.sts.put_role(role_arn, trust_policy);
    }

    /// Panics if the token or any of `ids` appears in the transcript, Terraform's TRACE
    /// log (with the provider's lines) or the server's output.
    pub(crate) fn assert_no_secret_shown(&self, ws: &Workspace, ids: &[String]) {
        let transcript = ws.transcript();
        assert!(!transcript.contains(&self.token), "the API token was printed:\n{transcript}");
        for id in ids {
            assert!(!transcript.contains(id.as_str()), "an external ID was printed:\n{transcript}");
        }
        // Terraform's TRACE log carries the provider's own log lines.
        let log = ws.log();
        assert!(log.contains("idcbootstrap"), "no provider log line to search");
        assert!(!log.contains(&self.token), "the API token is in the TRACE log");
        for id in ids {
            assert!(!log.contains(id.as_str()), "an external ID is in the TRACE log");
        }
        let mut secrets: Vec<(&str, &str)> = vec![("the API token", self.token.as_str())];
        secrets.extend(ids.iter().map(|i| ("an external ID", i.as_str())));
        self.deployment.assert_output_lacks(&secrets);
    }
}

/// The attributes of `mode` `type_`.`name` from the state file (not `show -json`,
/// which would print sensitive values into the transcript).
pub(crate) fn state_attrs(ws: &Workspace, mode: &str, type_: &str, name: &str) -> Option<Value> {
    let state: Value = serde_json::from_str(&std::fs::read_to_string(ws.path("terraform.tfstate")).ok()?)
        .expect("state is JSON");
    state["resources"].as_array()?.iter().find_map(|r| {
        (r["mode"] == mode && r["type"] == type_ && r["name"] == name)
            .then(|| r.pointer("/instances/0/attributes").cloned())
            .flatten()
    })
}
