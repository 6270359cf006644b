//! Secrets at rest and bearer tokens.
//!
//! * External IDs are sealed with AES-256-GCM under a [`Keyring`]: the first key
//!   encrypts, every key decrypts, so keys rotate without downtime (`rekey` moves the
//!   rows to the first key). The associated data binds a ciphertext to its tenant and
//!   column, so a ciphertext copied to another tenant's row or column does not open.
//! * Tokens are 256 random bits; only their SHA-256 is stored, and the lookup result
//!   is compared in constant time.
//!
//! Everything comes from aws-lc-rs, the workspace's one crypto backend.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Length of a data key: AES-256.
pub const KEY_LEN: usize = 32;

/// Length of a key ID: the first bytes of the key's SHA-256 (with a domain prefix).
const KEY_ID_LEN: usize = 8;

/// Version byte of the sealed format: `[1][key id: 8][nonce: 12][ciphertext + tag]`.
const FORMAT_V1: u8 = 1;

/// Prefix of every token, so a leaked one is recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "idcb_";

/// A data-key problem: a bad key, or a ciphertext no key opens.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A configured key is not base64 of 32 bytes.
    #[error("data key {index} is not base64 of {KEY_LEN} bytes")]
    BadKey {
        /// Position of the key in the list (0 = the encrypting key).
        index: usize,
    },
    /// No key was configured.
    #[error("no data key configured")]
    NoKey,
    /// The stored value was sealed under a key that is not in the keyring.
    #[error("a stored value was encrypted under key {0}, which is not configured")]
    UnknownKey(String),
    /// The stored value is corrupt, or was moved to another tenant or column.
    #[error("a stored value failed authentication (corrupt, or not this tenant's)")]
    Open,
    /// The operating system's random source failed.
    #[error("the random source failed")]
    Random,
}

struct DataKey {
    id: [u8; KEY_ID_LEN],
    key: LessSafeKey,
}

/// The data keys: the first encrypts, all decrypt. `Debug` shows key IDs only.
pub struct Keyring {
    keys: Vec<DataKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring").field("key_ids", &self.key_ids()).finish()
    }
}

fn key_id(raw: &[u8]) -> [u8; KEY_ID_LEN] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"idcbootstrap data key id\0");
    ctx.update(raw);
    let d = ctx.finish();
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&d.as_ref()[..KEY_ID_LEN]);
    id
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn aad(tenant: &str, column: &str) -> Vec<u8> {
    format!("idcbootstrap\0{tenant}\0{column}").into_bytes()
}

impl Keyring {
    /// Builds a keyring from base64 keys (standard alphabet, padding optional), the
    /// encrypting key first. Blank entries are skipped.
    ///
    /// # Errors
    ///
    /// [`CryptoError::BadKey`] for an entry that is not 32 bytes of base64;
    /// [`CryptoError::NoKey`] when the list is empty.
    pub fn from_base64<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<Keyring, CryptoError> {
        let mut out = Vec::new();
        for (index, k) in keys.into_iter().map(str::trim).filter(|k| !k.is_empty()).enumerate() {
            let raw = STANDARD
                .decode(k)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(k))
                .map_err(|_| CryptoError::BadKey { index })?;
            if raw.len() != KEY_LEN {
                return Err(CryptoError::BadKey { index });
            }
            let unbound = UnboundKey::new(&AES_256_GCM, &raw).map_err(|_| CryptoError::BadKey { index })?;
            out.push(DataKey { id: key_id(&raw), key: LessSafeKey::new(unbound) });
        }
        if out.is_empty() {
            return Err(CryptoError::NoKey);
        }
        Ok(Keyring { keys: out })
    }

    /// A fresh random key, base64 (what a key file holds).
    ///
    /// # Errors
    ///
    /// [`CryptoError::Random`] if the random source fails.
    pub fn generate_key() -> Result<String, CryptoError> {
        let mut raw = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut raw).map_err(|_| CryptoError::Random)?;
        Ok(STANDARD.encode(raw))
    }

    /// The key IDs (hex), encrypting key first. Not secret: derived one-way from the keys.
    pub fn key_ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| hex(&k.id)).collect()
    }

    /// Seals `plaintext` for `tenant`'s `column` under the first key, with a fresh
    /// random nonce.
    ///
    /// # Errors
    ///
    /// [`CryptoError::Random`] if the random source fails.
    pub fn seal(&self, tenant: &str, column: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let k = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + plaintext.len() + 16);
        out.push(FORMAT_V1);
        out.extend_from_slice(&k.id);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        k.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(tenant, column)),
                &mut body,
            )
            .map_err(|_| CryptoError::Open)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens a value sealed by [`Keyring::seal`] for the same tenant and column, with
    /// whichever configured key sealed it.
    ///
    /// # Errors
    ///
    /// [`CryptoError::UnknownKey`] when its key is not configured; [`CryptoError::Open`]
    /// when it is corrupt or belongs to another tenant or column.
    pub fn open(&self, tenant: &str, column: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let header = 1 + KEY_ID_LEN + NONCE_LEN;
        if sealed.len() < header || sealed[0] != FORMAT_V1 {
            return Err(CryptoError::Open);
        }
        let id = &sealed[1..1 + KEY_ID_LEN];
        let k = self.keys.iter().find(|k| k.id == id).ok_or_else(|| CryptoError::UnknownKey(hex(id)))?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1 + KEY_ID_LEN..header]);
        let mut body = sealed[header..].to_vec();
        let plain = k
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad(tenant, column)), &mut body)
            .map_err(|_| CryptoError::Open)?;
        let n = plain.len();
        body.truncate(n);
        Ok(body)
    }

    /// Whether `sealed` is under another key than the encrypting one (what `rekey` moves).
    pub fn needs_rekey(&self, sealed: &[u8]) -> bool {
        sealed.get(1..1 + KEY_ID_LEN).is_none_or(|id| id != self.keys[0].id)
    }
}

/// A new bearer token: [`TOKEN_PREFIX`] and 256 random bits, base64url.
///
/// # Errors
///
/// [`CryptoError::Random`] if the random source fails.
pub fn generate_token() -> Result<String, CryptoError> {
    let mut raw = [0u8; 32];
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| CryptoError::Random)?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)))
}

/// SHA-256 of a token: what the database stores and is searched by.
pub fn token_hash(token: &str) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Constant-time equality of two hashes.
pub fn same_hash(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::from_base64([Keyring::generate_key().unwrap().as_str()]).unwrap()
    }

    #[test]
    fn seal_open_round_trips_with_a_fresh_nonce_each_time() {
        let k = ring();
        let a = k.seal("t1", "external_id", b"secret-id").unwrap();
        let b = k.seal("t1", "external_id", b"secret-id").unwrap();
        assert_ne!(a, b, "nonces differ");
        assert!(!a.windows(9).any(|w| w == b"secret-id"));
        assert_eq!(k.open("t1", "external_id", &a).unwrap(), b"secret-id");
    }

    #[test]
    fn a_ciphertext_does_not_open_for_another_tenant_or_column() {
        let k = ring();
        let a = k.seal("t1", "external_id", b"secret-id").unwrap();
        assert!(matches!(k.open("t2", "external_id", &a), Err(CryptoError::Open)));
        assert!(matches!(k.open("t1", "external_id_pending", &a), Err(CryptoError::Open)));
        let mut bad = a.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(matches!(k.open("t1", "external_id", &bad), Err(CryptoError::Open)));
    }

    #[test]
    fn old_keys_decrypt_and_the_first_encrypts() {
        let old = Keyring::generate_key().unwrap();
        let new = Keyring::generate_key().unwrap();
        let before = Keyring::from_base64([old.as_str()]).unwrap();
        let sealed = before.seal("t", "c", b"v").unwrap();
        let after = Keyring::from_base64([new.as_str(), old.as_str()]).unwrap();
        assert!(after.needs_rekey(&sealed));
        assert_eq!(after.open("t", "c", &sealed).unwrap(), b"v");
        let resealed = after.seal("t", "c", b"v").unwrap();
        assert!(!after.needs_rekey(&resealed));
        let only_new = Keyring::from_base64([new.as_str()]).unwrap();
        assert!(matches!(only_new.open("t", "c", &sealed), Err(CryptoError::UnknownKey(_))));
    }

    #[test]
    fn bad_keys_are_refused_and_debug_shows_no_key() {
        assert!(matches!(Keyring::from_base64(["AAAA"]), Err(CryptoError::BadKey { index: 0 })));
        assert!(matches!(Keyring::from_base64(["", " "]), Err(CryptoError::NoKey)));
        let key = Keyring::generate_key().unwrap();
        let k = Keyring::from_base64([key.as_str()]).unwrap();
        assert!(!format!("{k:?}").contains(&key));
    }

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43);
        assert_ne!(a, b);
        assert!(same_hash(&token_hash(&a), &token_hash(&a)));
        assert!(!same_hash(&token_hash(&a), &token_hash(&b)));
    }
}
