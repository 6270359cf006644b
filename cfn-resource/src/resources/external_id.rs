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
//! * each external ID is `HMAC-SHA-512(IDCB_STATE_KEY, nonce)`, written as 32
//!   base62 characters like the core's generated IDs (~190 bits). Without the key
//!   a nonce says nothing about the ID.
//!
//! `IDCB_STATE_KEY` is a secret the deployment template generates in Secrets
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
//! The properties describe the wanted state: `Rotation` names the generation (any
//! string; change it to rotate) and `RetirePrevious` says whether the ID of the
//! previous generation is still trusted. Updates that change neither keep the
//! physical ID and the IDs. The steps themselves are the core's [`ExternalIdSet`]:
//! rotating while a previous ID is still trusted is refused, so an ID in use is
//! never dropped silently.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lc_rs::hmac;
use idcbootstrap::{ErrorCode, ExternalId, ExternalIdSet, RotationState};

use super::properties::{Props, translate_error};
use crate::config::StateKey;
use crate::event::{Request, RequestKind};
use crate::handler::{BoxFuture, CustomResource, Failure, PropertyDetail, Success};

/// The `ResourceType`.
pub(crate) const TYPE: &str = "Custom::IdcExternalId";

/// Properties.
pub(crate) const PROPERTIES: [&str; 2] = ["Rotation", "RetirePrevious"];

/// `Fn::GetAtt` attribute names.
pub(crate) const ATTRIBUTES: [&str; 4] = ["ExternalId", "PreviousExternalId", "ExternalIds", "RotationState"];

const PREFIX: &str = "idcbootstrap:external-id:v1";
const NONCE_BYTES: usize = 16;
const ID_LEN: usize = idcbootstrap::external_id::GENERATED_LEN;
const MAX_ROTATION_LEN: usize = 256;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[derive(Clone)]
pub(crate) struct ExternalIdResource {
    key: Arc<hmac::Key>,
    fingerprint: String,
}

/// The nonces of the trusted IDs, current first; what the physical ID carries.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Nonces {
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

    fn physical_id(&self, n: &Nonces) -> String {
        match &n.previous {
            None => format!("{PREFIX}:{}:{}", self.fingerprint, n.current),
            Some(p) => format!("{PREFIX}:{}:{}:{p}", self.fingerprint, n.current),
        }
    }

    fn parse_physical_id(&self, physical: &str) -> Result<Nonces, Failure> {
        let foreign = || {
            Failure::new(
                ErrorCode::Internal,
                "the physical resource ID was not issued by this function for an external ID; \
                 replace the resource (give it a new logical ID) to generate a new one",
            )
        };
        let rest = physical.strip_prefix(PREFIX).and_then(|r| r.strip_prefix(':')).ok_or_else(foreign)?;
        let parts: Vec<&str> = rest.split(':').collect();
        let is_nonce = |s: &str| s.len() == NONCE_BYTES * 2 && s.bytes().all(|b| b.is_ascii_hexdigit());
        let (fp, current, previous) = match parts.as_slice() {
            [fp, c] if is_nonce(c) => (*fp, *c, None),
            [fp, c, p] if is_nonce(c) && is_nonce(p) => (*fp, *c, Some(*p)),
            _ => return Err(foreign()),
        };
        if fp != self.fingerprint {
            return Err(Failure::new(
                ErrorCode::Internal,
                "IDCB_STATE_KEY has changed since this external ID was generated, so it cannot be \
                 recovered: restore the previous key, or replace the resource to generate a new ID",
            ));
        }
        Ok(Nonces { current: current.to_owned(), previous: previous.map(str::to_owned) })
    }

    fn set(&self, n: &Nonces) -> ExternalIdSet {
        ExternalIdSet {
            current: self.derive(&n.current),
            previous: n.previous.as_deref().map(|p| self.derive(p)),
        }
    }

    fn success(&self, n: &Nonces) -> Success {
        let set = self.set(n);
        let ids: Vec<&str> = std::iter::once(set.current.expose())
            .chain(set.previous.as_ref().map(ExternalId::expose))
            .collect();
        let state = match set.state() {
            RotationState::Steady => "steady",
            RotationState::Rotating => "rotating",
        };
        let data = BTreeMap::from([
            ("ExternalId".to_owned(), set.current.expose().to_owned()),
            (
                "PreviousExternalId".to_owned(),
                set.previous.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default(),
            ),
            ("ExternalIds".to_owned(), ids.join(",")),
            ("RotationState".to_owned(), state.to_owned()),
        ]);
        Success { physical_resource_id: self.physical_id(n), data, no_echo: true }
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
        if request.kind == RequestKind::Create {
            return Ok(self.success(&Nonces { current: new_nonce()?, previous: None }));
        }
        // Update.
        let physical = request.physical_resource_id().unwrap_or_default();
        let mut nonces = self.parse_physical_id(physical)?;
        // Old properties were valid when they were applied; if they no longer
        // parse, treat them as the defaults rather than block the update.
        let old = request.old_properties.as_ref().and_then(|o| read(o).ok()).unwrap_or_default();
        let mut set = self.set(&nonces);
        let rotate = wanted.rotation != old.rotation;
        if rotate && wanted.retire_previous {
            set.retire_previous();
            nonces.previous = None;
        }
        if rotate {
            let nonce = new_nonce()?;
            set.rotate_to(self.derive(&nonce)).map_err(|e| {
                let mut f = translate_error(&e);
                for d in &mut f.details {
                    // The core speaks of its `external_ids` list; here the
                    // step was asked for through `Rotation`.
                    d.property = "Rotation".to_owned();
                }
                f
            })?;
            nonces.previous = Some(std::mem::replace(&mut nonces.current, nonce));
        }
        if wanted.retire_previous {
            set.retire_previous();
            nonces.previous = None;
        }
        Ok(self.success(&nonces))
    }
}

impl CustomResource for ExternalIdResource {
    fn resource_type(&self) -> &'static str {
        TYPE
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
    rotation: String,
    retire_previous: bool,
}

fn read(properties: &serde_json::Map<String, serde_json::Value>) -> Result<Wanted, Failure> {
    let mut p = Props::new(properties);
    p.reject_unknown(TYPE, &PROPERTIES);
    let rotation = p.string("Rotation").unwrap_or_default();
    if rotation.chars().count() > MAX_ROTATION_LEN {
        p.details.push(PropertyDetail {
            property: "Rotation".into(),
            rule: "length".into(),
            message: format!("must be at most {MAX_ROTATION_LEN} characters"),
        });
    }
    let retire_previous = p.boolean("RetirePrevious").unwrap_or(false);
    p.finish()?;
    Ok(Wanted { rotation, retire_previous })
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
            resource_type: TYPE.into(),
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
    fn rotation_with_retire_previous_is_a_cut_over() {
        let r = resource(KEY);
        let c = r.compute(&req(RequestKind::Create, None, json!({}), None)).unwrap();
        let u = update(
            &r,
            &c.physical_resource_id,
            json!({}),
            json!({"Rotation": "b", "RetirePrevious": "True"}),
        )
        .unwrap();
        assert_ne!(u.data["ExternalId"], c.data["ExternalId"]);
        assert_eq!(u.data["RotationState"], "steady");
    }

    #[test]
    fn a_changed_key_is_detected_not_silently_regenerated() {
        let c = resource(KEY).compute(&req(RequestKind::Create, None, json!({}), None)).unwrap();
        let other = resource("another-key-0123456789abcdef012345678");
        let f = update(&other, &c.physical_resource_id, json!({}), json!({})).unwrap_err();
        assert!(f.message.contains("IDCB_STATE_KEY"), "{}", f.message);
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

    #[test]
    fn delete_always_succeeds() {
        let r = resource(KEY);
        let s = r.compute(&req(RequestKind::Delete, Some("anything"), json!({"Bogus": 1}), None)).unwrap();
        assert_eq!(s.physical_resource_id, "anything");
    }
}
