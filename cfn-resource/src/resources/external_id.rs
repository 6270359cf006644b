//! `Custom::IdcExternalId`: generates the trust role's external ID and rotates it.
//!
//! # Where the ID lives between invocations
//!
//! CloudFormation does not send a resource's previous `Data` back, so on Update the
//! ID must be recovered from the physical resource ID, the (old) properties, or a
//! store outside the stack. The physical ID is shown in every stack event and in
//! `describe-stack-resources`, so the ID itself must not be in it. Instead:
//!
//! * the physical ID holds one random 128-bit *nonce* per trusted ID (public), and
//!   a fingerprint of the key (public, 32 bits of an HMAC of a constant);
//! * each external ID is `HMAC-SHA-512(IDCBOOTSTRAP_STATE_KEY, nonce)`, written as 32
//!   base62 characters like the core's generated IDs (~190 bits). Without the key
//!   a nonce says nothing about the ID.
//!
//! `IDCBOOTSTRAP_STATE_KEY` is a secret the deployment template generates in Secrets
//! Manager and hands to the function's environment. Whoever can read the function's
//! configuration can derive the IDs — the same people who can read the trust
//! policy itself with `iam:GetRole`, where the IDs necessarily appear. The IDs reach
//! the stack only as `Data` with `NoEcho`, so `Fn::GetAtt` values are masked in
//! describe output; they are never logged.
//!
//! This needs no AWS call, so Create, Update and Delete cannot fail on throttling or
//! drift, Delete has nothing to clean up, and the function needs no SSM or Secrets
//! Manager permissions at run time. If the key ever changes, the fingerprint no
//! longer matches and Update fails with a clear reason instead of silently
//! producing new IDs that the vendor does not know. (A store such as SSM Parameter
//! Store would survive a key change but adds a run-time dependency, IAM rights, and
//! state that can drift from the stack; see `cfn-resource/README.md`.)
//!
//! # Rotation
//!
//! The properties describe the wanted state: `Rotation` names the generation and
//! `RetirePrevious` says whether the previous generation's ID is still trusted.
//! Which step a change asks for is the core's one rule for every front-end,
//! [`plan_rotation`]: `Rotation` going from one value to another rotates, from
//! unset to a value only records it; rotating and retiring in the same change, or
//! rotating while rotating, is refused, so an ID in use is never dropped.
//!
//! The rule needs the keeper value the stored IDs were made for. CloudFormation
//! sends the old properties on Update, but after a refused Update it rolls back
//! with another Update whose *old* properties are the refused ones, which were never
//! applied. So the physical ID also carries a tag of the `Rotation` value it was
//! made for (an HMAC under the key, 64 bits): the old properties are believed only
//! when they match it, and an Update back to the tagged value (the rollback) keeps
//! the IDs. Physical IDs from before the tag (`v1`) fall back to the old properties.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lc_rs::hmac;
use idcbootstrap::external_id::{RotationStep, plan_rotation, rotation_keeper};
use idcbootstrap::spec;
use idcbootstrap::{AttrPath, ErrorCode, ExternalId, ExternalIdSet, RotationState};

use super::properties::{Defaults, Table, invalid_message};
use crate::config::{ConfigError, lookup};
use crate::event::{Request, RequestKind};
use crate::handler::{BoxFuture, CustomResource, Failure, Success};

/// Properties and attributes: the core's external-ID fields.
pub(crate) const TABLE: Table = Table::new(&spec::EXTERNAL_ID, &[]);

/// Physical IDs without the generation tag, from earlier versions: still read.
const PREFIX_V1: &str = "idcbootstrap:external-id:v1";
/// `PREFIX:<key fingerprint>:<generation tag>:<current nonce>[:<previous nonce>]`.
const PREFIX: &str = "idcbootstrap:external-id:v2";
/// The generation tag of an unset `Rotation`.
const UNSET: &str = "-";
const NONCE_BYTES: usize = 16;
const TAG_BYTES: usize = 8;
const ID_LEN: usize = idcbootstrap::external_id::GENERATED_LEN;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The secret the external IDs are derived from: this type's only configuration.
pub(crate) const STATE_KEY_VAR: &str = "IDCBOOTSTRAP_STATE_KEY";

/// Shortest accepted state key: 32 characters of a generated secret carry well
/// over 128 bits (Secrets Manager's `GenerateSecretString` of 64 alphanumerics
/// carries ~380).
pub(crate) const MIN_STATE_KEY_LEN: usize = 32;

/// The state key. `Debug` redacts it.
#[derive(Clone)]
pub(crate) struct StateKey(pub(crate) Vec<u8>);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(<redacted>)")
    }
}

impl StateKey {
    /// Reads `IDCBOOTSTRAP_STATE_KEY` (or `IDCB_STATE_KEY`) through `get`: `None`
    /// when neither is set.
    ///
    /// # Errors
    ///
    /// A key shorter than [`MIN_STATE_KEY_LEN`]; the error never holds the key.
    pub(crate) fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<StateKey>, ConfigError> {
        match lookup(get, STATE_KEY_VAR) {
            None => Ok(None),
            Some((k, var)) if k.trim().chars().count() < MIN_STATE_KEY_LEN => Err(ConfigError {
                variable: var,
                problem: format!("must be at least {MIN_STATE_KEY_LEN} characters"),
            }),
            Some((k, _)) => Ok(Some(StateKey(k.trim().as_bytes().to_vec()))),
        }
    }
}

/// Why `Custom::IdcExternalId` cannot serve without a key, and what to set.
pub(crate) fn not_configured() -> Failure {
    Failure::new(
        ErrorCode::NotConfigured,
        format!(
            "{} needs {STATE_KEY_VAR}, the secret its external IDs are derived from: set it in the function's \
             environment to a generated secret of at least {MIN_STATE_KEY_LEN} characters, and never change it \
             (deploy-function.yaml keeps one in Secrets Manager)",
            TABLE.resource_type()
        ),
    )
}

#[derive(Clone)]
pub(crate) struct ExternalIdResource {
    key: Arc<hmac::Key>,
    fingerprint: String,
}

/// What the physical ID carries: the nonces of the trusted IDs, current first, and
/// the tag of the `Rotation` value they were made for (`None` in a v1 ID).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    generation: Option<String>,
    current: String,
    previous: Option<String>,
}

impl ExternalIdResource {
    pub(crate) fn new(key: &StateKey) -> Self {
        let key = hmac::Key::new(hmac::HMAC_SHA512, &key.0);
        let tag = hmac::sign(&key, b"idcbootstrap state-key fingerprint");
        let fingerprint = hex(&tag.as_ref()[..4]);
        ExternalIdResource { key: Arc::new(key), fingerprint }
    }

    /// The external ID for a nonce: base62 by rejection sampling over HMAC output,
    /// chained if one block is not enough, so every character is uniform.
    fn derive(&self, nonce: &str) -> ExternalId {
        let mut out = String::with_capacity(ID_LEN);
        let mut block = hmac::sign(&self.key, format!("idcbootstrap external-id v1 {nonce}").as_bytes());
        loop {
            // 248 = 4 * 62: larger bytes would bias the first characters.
            for &b in block.as_ref().iter().filter(|&&b| b < 248) {
                if out.len() == ID_LEN {
                    return ExternalId::new(out);
                }
                out.push(char::from(BASE62[usize::from(b % 62)]));
            }
            if out.len() == ID_LEN {
                return ExternalId::new(out);
            }
            block = hmac::sign(&self.key, block.as_ref());
        }
    }

    /// The tag of a `Rotation` value (unset: `-`).
    fn generation(&self, rotation: Option<&str>) -> String {
        match rotation {
            None => UNSET.to_owned(),
            Some(r) => {
                let tag = hmac::sign(&self.key, format!("idcbootstrap rotation v2 {r}").as_bytes());
                hex(&tag.as_ref()[..TAG_BYTES])
            }
        }
    }

    fn physical_id(&self, s: &Stored) -> String {
        let prefix = match &s.generation {
            Some(g) => format!("{PREFIX}:{}:{g}:{}", self.fingerprint, s.current),
            None => format!("{PREFIX_V1}:{}:{}", self.fingerprint, s.current),
        };
        match &s.previous {
            None => prefix,
            Some(p) => format!("{prefix}:{p}"),
        }
    }

    fn parse_physical_id(&self, physical: &str) -> Result<Stored, Failure> {
        let foreign = || {
            Failure::new(
                ErrorCode::Internal,
                "the physical resource ID was not issued by this function for an external ID; \
                 replace the resource (give it a new logical ID) to generate a new one",
            )
        };
        let is_nonce = |s: &str| s.len() == NONCE_BYTES * 2 && s.bytes().all(|b| b.is_ascii_hexdigit());
        let is_tag =
            |s: &str| s == UNSET || (s.len() == TAG_BYTES * 2 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        let (fp, generation, current, previous) =
            if let Some(rest) = physical.strip_prefix(PREFIX).and_then(|r| r.strip_prefix(':')) {
                match rest.split(':').collect::<Vec<_>>().as_slice() {
                    [fp, g, c] if is_tag(g) && is_nonce(c) => (*fp, Some(*g), *c, None),
                    [fp, g, c, p] if is_tag(g) && is_nonce(c) && is_nonce(p) => (*fp, Some(*g), *c, Some(*p)),
                    _ => return Err(foreign()),
                }
            } else if let Some(rest) = physical.strip_prefix(PREFIX_V1).and_then(|r| r.strip_prefix(':')) {
                match rest.split(':').collect::<Vec<_>>().as_slice() {
                    [fp, c] if is_nonce(c) => (*fp, None, *c, None),
                    [fp, c, p] if is_nonce(c) && is_nonce(p) => (*fp, None, *c, Some(*p)),
                    _ => return Err(foreign()),
                }
            } else {
                return Err(foreign());
            };
        if fp != self.fingerprint {
            return Err(Failure::new(
                ErrorCode::Internal,
                format!(
                    "{STATE_KEY_VAR} has changed since this external ID was generated, so it cannot be \
                     recovered: restore the previous key, or replace the resource to generate a new ID"
                ),
            ));
        }
        Ok(Stored {
            generation: generation.map(str::to_owned),
            current: current.to_owned(),
            previous: previous.map(str::to_owned),
        })
    }

    fn set(&self, s: &Stored) -> ExternalIdSet {
        ExternalIdSet {
            current: self.derive(&s.current),
            previous: s.previous.as_deref().map(|p| self.derive(p)),
        }
    }

    fn success(&self, s: &Stored) -> Result<Success, Failure> {
        let set = self.set(s);
        let mut data = BTreeMap::new();
        for attribute in TABLE.attributes() {
            let value = match attribute.name {
                "current" => set.current.expose().to_owned(),
                "previous" => set.previous.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default(),
                "all" => set.all().iter().map(ExternalId::expose).collect::<Vec<_>>().join(","),
                "rotation_state" => match set.state() {
                    RotationState::Steady => "steady".to_owned(),
                    RotationState::Rotating => "rotating".to_owned(),
                },
                other => {
                    let message = format!("no value for the attribute of {other}");
                    return Err(Failure::new(ErrorCode::Internal, message));
                }
            };
            data.insert(attribute.cfn.unwrap_or(attribute.name).to_owned(), value);
        }
        Ok(Success { physical_resource_id: self.physical_id(s), data, no_echo: true })
    }

    fn compute(&self, request: &Request) -> Result<Success, Failure> {
        if request.kind == RequestKind::Delete {
            // Nothing exists outside CloudFormation (see the module docs), so even
            // invalid properties delete fine.
            return Ok(Success {
                physical_resource_id: request.physical_resource_id().unwrap_or_default().to_owned(),
                data: BTreeMap::new(),
                no_echo: true,
            });
        }
        let wanted = read(&request.properties)?;
        let generation = Some(self.generation(wanted.rotation.as_deref()));
        if request.kind == RequestKind::Create {
            return self.success(&Stored { generation, current: new_nonce()?, previous: None });
        }
        // Update.
        let physical = request.physical_resource_id().unwrap_or_default();
        let mut stored = self.parse_physical_id(physical)?;
        // Old properties were valid when they were applied; if they no longer
        // parse, treat them as the defaults rather than block the update.
        let old = request.old_properties.as_ref().and_then(|o| read(o).ok()).unwrap_or_default();
        let prior = match &stored.generation {
            // A v1 ID knows nothing of the keeper: believe the old properties.
            None => old.rotation.clone(),
            Some(g) if *g == self.generation(old.rotation.as_deref()) => old.rotation.clone(),
            // The old properties were never applied: this is the rollback of a
            // refused (or failed) Update. Back to the value the IDs were made for,
            // nothing changes.
            Some(g) if *g == self.generation(wanted.rotation.as_deref()) => wanted.rotation.clone(),
            Some(g) if g == UNSET => None,
            // Made for some other value, which the tag does not reveal; any value
            // other than the wanted one decides the same step.
            Some(_) => Some(String::new()),
        };
        let set = self.set(&stored);
        let step = plan_rotation(&set, prior.as_deref(), wanted.rotation.as_deref(), wanted.retire_previous)
            .map_err(|e| TABLE.translate_error(&e))?;
        match step {
            RotationStep::Keep => {}
            RotationStep::Rotate => {
                let nonce = new_nonce()?;
                stored.previous = Some(std::mem::replace(&mut stored.current, nonce));
            }
            RotationStep::Retire => stored.previous = None,
        }
        // A v1 ID that nothing changes stays as it is: a new physical ID would tell
        // CloudFormation the resource was replaced.
        if stored.generation.is_some() || step != RotationStep::Keep || old.rotation != wanted.rotation {
            stored.generation = generation;
        }
        self.success(&stored)
    }
}

impl CustomResource for ExternalIdResource {
    fn resource_type(&self) -> &'static str {
        TABLE.resource_type()
    }

    fn handle(&self, request: Arc<Request>) -> BoxFuture<Result<Success, Failure>> {
        let this = self.clone();
        Box::pin(async move {
            if request.kind == RequestKind::Delete {
                return this.compute(&request);
            }
            match tokio::task::spawn_blocking(move || this.compute(&request)).await {
                Ok(result) => result,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => Err(Failure::new(ErrorCode::Internal, "the work was cancelled")),
            }
        })
    }
}

/// The wanted state, from the properties.
#[derive(Debug, Default, PartialEq, Eq)]
struct Wanted {
    /// The keeper: `None` when unset or empty, which are the same.
    rotation: Option<String>,
    retire_previous: bool,
}

fn read(properties: &serde_json::Map<String, serde_json::Value>) -> Result<Wanted, Failure> {
    let d = TABLE.decode(properties, &Defaults::default());
    let rotation = d.string("rotation");
    let keeper =
        rotation_keeper(AttrPath::field("rotation"), rotation.as_deref()).map_err(|detail| Failure {
            code: ErrorCode::InvalidInput,
            message: invalid_message(1),
            details: vec![TABLE.translate_detail(&detail)],
        });
    let rotation = keeper.as_ref().ok().copied().flatten().map(str::to_owned);
    d.merge(keeper.err())?;
    Ok(Wanted { rotation, retire_previous: d.boolean("retire_previous").unwrap_or(false) })
}

fn new_nonce() -> Result<String, Failure> {
    let mut buf = [0u8; NONCE_BYTES];
    aws_lc_rs::rand::fill(&mut buf)
        .map_err(|_| Failure::new(ErrorCode::Internal, "the operating system's random source failed"))?;
    Ok(hex(&buf))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::event::ReplyTo;
    use idcbootstrap::AttrPath;

    fn resource(key: &str) -> ExternalIdResource {
        ExternalIdResource::new(&StateKey(key.as_bytes().to_vec()))
    }

    const KEY: &str = "test-key-0123456789abcdef0123456789";

    fn req(kind: RequestKind, physical: Option<&str>, props: Value, old: Option<Value>) -> Request {
        Request {
            kind,
            reply: ReplyTo {
                response_url: "http://127.0.0.1:1/".into(),
                stack_id: "s".into(),
                request_id: "r".into(),
                logical_resource_id: "Xid".into(),
                physical_resource_id: physical.map(str::to_owned),
                kind: Some(kind),
            },
            resource_type: TABLE.resource_type().into(),
            properties: serde_json::from_value(props).unwrap(),
            old_properties: old.map(|o| serde_json::from_value(o).unwrap()),
        }
    }

    fn update(r: &ExternalIdResource, physical: &str, old: Value, new: Value) -> Result<Success, Failure> {
        r.compute(&req(RequestKind::Update, Some(physical), new, Some(old)))
    }

    #[test]
    fn create_generates_a_valid_secret_id_not_visible_in_the_physical_id() {
        let r = resource(KEY);
        let s = r.compute(&req(RequestKind::Create, None, json!({"ServiceToken": "t"}), None)).unwrap();
        let id = &s.data["ExternalId"];
        assert_eq!(id.len(), ID_LEN);
        assert!(ExternalId::parse(AttrPath::root(), id).is_ok());
        assert!(!s.physical_resource_id.contains(id.as_str()));
        assert!(s.physical_resource_id.starts_with(PREFIX));
        assert_eq!(s.data["PreviousExternalId"], "");
        assert_eq!(s.data["ExternalIds"], *id);
        assert_eq!(s.data["RotationState"], "steady");
        assert!(s.no_echo);
        let again = r.compute(&req(RequestKind::Create, None, json!({}), None)).unwrap();
        assert_ne!(again.data["ExternalId"], *id, "each Create draws a new nonce");
    }

    #[test]
    fn update_without_rotation_keeps_id_and_physical_id() {
        let r = resource(KEY);
        let c = r.compute(&req(RequestKind::Create, None, json!({"Rotation": "1"}), None)).unwrap();
        let u =
            update(&r, &c.physical_resource_id, json!({"Rotation": "1"}), json!({"Rotation": "1"})).unwrap();
        assert_eq!(u, c);
    }

    #[test]
    fn rotation_keeps_previous_id_trusted_then_retires_it() {
        let r = resource(KEY);
        let c = r.compute(&req(RequestKind::Create, None, json!({"Rotation": "1"}), None)).unwrap();
        let first = c.data["ExternalId"].clone();

        let rot =
            update(&r, &c.physical_resource_id, json!({"Rotation": "1"}), json!({"Rotation": "2"})).unwrap();
        assert_ne!(rot.physical_resource_id, c.physical_resource_id);
        assert_ne!(rot.data["ExternalId"], first);
        assert_eq!(rot.data["PreviousExternalId"], first);
        assert_eq!(rot.data["ExternalIds"], format!("{},{first}", rot.data["ExternalId"]));
        assert_eq!(rot.data["RotationState"], "rotating");

        // An unrelated update while rotating changes nothing.
        let same = update(&r, &rot.physical_resource_id, json!({"Rotation": "2"}), json!({"Rotation": "2"}))
            .unwrap();
        assert_eq!(same, rot);

        // Rotating again before retiring is refused, naming Rotation.
        let f = update(&r, &rot.physical_resource_id, json!({"Rotation": "2"}), json!({"Rotation": "3"}))
            .unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidInput);
        assert_eq!(f.details[0].property, "Rotation");
        assert_eq!(f.details[0].rule, "rotation");

        let ret = update(
            &r,
            &rot.physical_resource_id,
            json!({"Rotation": "2"}),
            json!({"Rotation": "2", "RetirePrevious": "true"}),
        )
        .unwrap();
        assert_eq!(ret.data["ExternalId"], rot.data["ExternalId"]);
        assert_eq!(ret.data["PreviousExternalId"], "");
        assert_eq!(ret.data["RotationState"], "steady");

        // Retiring is idempotent.
        let again = update(
            &r,
            &ret.physical_resource_id,
            json!({"Rotation": "2", "RetirePrevious": "true"}),
            json!({"Rotation": "2", "RetirePrevious": "true"}),
        )
        .unwrap();
        assert_eq!(again, ret);
    }

    #[test]
    fn setting_rotation_where_it_was_unset_only_records_it() {
        let r = resource(KEY);
        let c = r.compute(&req(RequestKind::Create, None, json!({}), None)).unwrap();
        let u = update(&r, &c.physical_resource_id, json!({}), json!({"Rotation": "b"})).unwrap();
        assert_eq!(u.data, c.data, "the IDs stay");
        // The next change of the keeper rotates.
        let rot =
            update(&r, &u.physical_resource_id, json!({"Rotation": "b"}), json!({"Rotation": "c"})).unwrap();
        assert_ne!(rot.data["ExternalId"], c.data["ExternalId"]);
        assert_eq!(rot.data["PreviousExternalId"], c.data["ExternalId"]);
    }

    /// The change that once dropped the ID the vendor uses: `RetirePrevious` stayed
    /// `"true"` from the last rotation while the next one starts.
    #[test]
    fn rotating_while_retire_previous_stays_true_is_refused_and_the_rollback_keeps_the_ids() {
        let r = resource(KEY);
        let a = json!({"Rotation": "A"});
        let b = json!({"Rotation": "B"});
        let b_retired = json!({"Rotation": "B", "RetirePrevious": "true"});
        let c_retired = json!({"Rotation": "C", "RetirePrevious": "true"});
        let created = r.compute(&req(RequestKind::Create, None, a.clone(), None)).unwrap();
        let rotated = update(&r, &created.physical_resource_id, a, b.clone()).unwrap();
        let retired = update(&r, &rotated.physical_resource_id, b, b_retired.clone()).unwrap();
        assert_eq!(retired.data["ExternalId"], rotated.data["ExternalId"]);
        assert_eq!(retired.data["RotationState"], "steady");

        let f = update(&r, &retired.physical_resource_id, b_retired.clone(), c_retired.clone()).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidInput);
        let named: Vec<(&str, &str)> =
            f.details.iter().map(|d| (d.property.as_str(), d.rule.as_str())).collect();
        assert_eq!(named, [("Rotation", "rotation"), ("RetirePrevious", "rotation")]);
        assert!(f.reason().contains("Rotation and RetirePrevious cannot change together"), "{}", f.reason());
        assert!(!f.reason().contains("retire_previous"), "{}", f.reason());

        // CloudFormation rolls back with an Update from the refused properties to
        // the ones before: it succeeds, and nothing changes.
        let rollback = update(&r, &retired.physical_resource_id, c_retired, b_retired.clone()).unwrap();
        assert_eq!(rollback, retired);

        // The rotation asked for properly afterwards works.
        let next = update(&r, &retired.physical_resource_id, b_retired, json!({"Rotation": "C"})).unwrap();
        assert_eq!(next.data["PreviousExternalId"], retired.data["ExternalId"]);
        assert_eq!(next.data["RotationState"], "rotating");
    }

    #[test]
    fn the_rollback_of_a_refused_rotation_while_rotating_keeps_the_ids() {
        let r = resource(KEY);
        let c = r.compute(&req(RequestKind::Create, None, json!({"Rotation": "1"}), None)).unwrap();
        let rot =
            update(&r, &c.physical_resource_id, json!({"Rotation": "1"}), json!({"Rotation": "2"})).unwrap();
        assert!(
            update(&r, &rot.physical_resource_id, json!({"Rotation": "2"}), json!({"Rotation": "3"}))
                .is_err()
        );
        let back = update(&r, &rot.physical_resource_id, json!({"Rotation": "3"}), json!({"Rotation": "2"}))
            .unwrap();
        assert_eq!(back, rot);
    }

    #[test]
    fn v1_physical_ids_keep_working() {
        let r = resource(KEY);
        let current = "00112233445566778899aabbccddeeff";
        let v1 = format!("{PREFIX_V1}:{}:{current}", r.fingerprint);
        let same = update(&r, &v1, json!({"Rotation": "1"}), json!({"Rotation": "1"})).unwrap();
        assert_eq!(same.physical_resource_id, v1, "an unchanged v1 resource is not replaced");
        assert_eq!(same.data["ExternalId"], r.derive(current).expose());
        let rot = update(&r, &v1, json!({"Rotation": "1"}), json!({"Rotation": "2"})).unwrap();
        assert!(rot.physical_resource_id.starts_with(PREFIX), "{}", rot.physical_resource_id);
        assert_eq!(rot.data["PreviousExternalId"], r.derive(current).expose());
    }

    #[test]
    fn a_changed_key_is_detected_not_silently_regenerated() {
        let c = resource(KEY).compute(&req(RequestKind::Create, None, json!({}), None)).unwrap();
        let other = resource("another-key-0123456789abcdef012345678");
        let f = update(&other, &c.physical_resource_id, json!({}), json!({})).unwrap_err();
        assert!(f.message.contains(STATE_KEY_VAR), "{}", f.message);
        assert!(update(&other, "Xid-not-created", json!({}), json!({})).is_err());
    }

    #[test]
    fn ids_are_a_function_of_key_and_nonce() {
        let a = resource(KEY).derive("00112233445566778899aabbccddeeff");
        assert_eq!(a, resource(KEY).derive("00112233445566778899aabbccddeeff"));
        assert_ne!(a, resource(KEY).derive("00112233445566778899aabbccddeefe"));
        assert_ne!(
            a,
            resource("another-key-0123456789abcdef012345678").derive("00112233445566778899aabbccddeeff")
        );
    }

    #[test]
    fn bad_properties_are_named() {
        let r = resource(KEY);
        let f = r
            .compute(&req(RequestKind::Create, None, json!({"RetirePrevious": "yes", "Rotate": "1"}), None))
            .unwrap_err();
        let named: Vec<&str> = f.details.iter().map(|d| d.property.as_str()).collect();
        assert_eq!(named, ["Rotate", "RetirePrevious"]);
        let long = r
            .compute(&req(RequestKind::Create, None, json!({"Rotation": "x".repeat(300)}), None))
            .unwrap_err();
        assert_eq!(long.details[0].rule, "length");
    }

    fn key_from(vars: &[(&str, &str)]) -> Result<Option<StateKey>, ConfigError> {
        StateKey::from_env(&|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn state_key_is_optional_long_enough_and_never_shown() {
        assert!(key_from(&[]).unwrap().is_none());
        assert!(key_from(&[(STATE_KEY_VAR, "")]).unwrap().is_none(), "empty is unset");
        let err = key_from(&[(STATE_KEY_VAR, "short")]).unwrap_err();
        assert_eq!(err.variable, STATE_KEY_VAR);
        assert!(!err.to_string().contains("short"), "never echo the key: {err}");
        let k = key_from(&[(STATE_KEY_VAR, KEY)]).unwrap().unwrap();
        assert!(!format!("{k:?}").contains(KEY));
        // The earlier name, when the new one is unset.
        assert_eq!(key_from(&[("IDCB_STATE_KEY", "short")]).unwrap_err().variable, "IDCB_STATE_KEY");
        let old = key_from(&[("IDCB_STATE_KEY", KEY)]).unwrap().unwrap();
        assert_eq!(old.0, KEY.as_bytes());
        assert!(
            not_configured()
                .reason()
                .starts_with("not_configured: Custom::IdcExternalId needs IDCBOOTSTRAP_STATE_KEY")
        );
    }

    #[test]
    fn delete_always_succeeds() {
        let r = resource(KEY);
        let s = r.compute(&req(RequestKind::Delete, Some("anything"), json!({"Bogus": 1}), None)).unwrap();
        assert_eq!(s.physical_resource_id, "anything");
    }
}
