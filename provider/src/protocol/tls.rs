//! go-plugin AutoMTLS: a throwaway self-signed server certificate (sent to
//! Terraform in the handshake line) and the client certificate Terraform passed in
//! `PLUGIN_CLIENT_CERT`, pinned byte for byte.
//!
//! Terraform's client certificate is a self-signed CA certificate with an ECDSA
//! P-521 key. The WebPKI verifier rejects such a certificate as an end entity, so
//! the pin is a small custom verifier; the handshake signatures are still checked
//! with aws-lc-rs, which verifies P-521.
//!
//! Everything random in this TLS (the server key, the ECDHE key share, the ECDSA
//! signature nonces, the handshake randoms) comes from the operating system's
//! CSPRNG through ring's `SystemRandom` (getrandom(2) on Linux), as in Go's
//! crypto/rand, which Terraform and go-plugin use for their side of the same
//! handshake. aws-lc-rs only verifies signatures and runs the record cipher, neither
//! of which draws randomness, so the start-up does not depend on how aws-lc was
//! built: a build with aws-lc's CPU-jitter entropy source seeds its DRBG on the first
//! draw, and that costs tens of milliseconds at every plugin start.

use std::sync::Arc;

use ring::rand::{SecureRandom as _, SystemRandom};
use ring::{agreement, signature};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{
    ActiveKeyExchange, CryptoProvider, SecureRandom, SharedSecret, SupportedKxGroup,
    WebPkiSupportedAlgorithms, aws_lc_rs,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, NamedGroup, PeerMisbehaved, ServerConfig,
    SignatureAlgorithm, SignatureScheme,
};

/// What can go wrong while setting up TLS; each is fatal at start-up.
#[derive(Debug)]
pub(crate) enum TlsError {
    ClientCert(String),
    Setup(String),
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::ClientCert(m) => write!(f, "PLUGIN_CLIENT_CERT is not a usable certificate: {m}"),
            TlsError::Setup(m) => write!(f, "TLS setup failed: {m}"),
        }
    }
}

/// The server side of AutoMTLS.
pub(crate) struct ServerTls {
    pub(crate) config: Arc<ServerConfig>,
    /// DER of the server certificate, for the handshake line.
    pub(crate) cert_der: Vec<u8>,
}

/// Builds the server TLS config pinned to the PEM client certificate `client_pem`.
pub(crate) fn server_tls(client_pem: &str) -> Result<ServerTls, TlsError> {
    let client = CertificateDer::from_pem_slice(client_pem.as_bytes())
        .map_err(|e| TlsError::ClientCert(e.to_string()))?;
    let provider = Arc::new(plugin_crypto());
    let verifier = PinnedClientCert { pinned: client, algs: provider.signature_verification_algorithms };

    // The same shape as go-plugin's own server certificate: Terraform checks it
    // against itself as root, for the name "localhost".
    let key = OsEcdsaKey::generate().map_err(TlsError::Setup)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    // A random 128-bit serial, as Go's crypto/x509 users pick, and the RFC 7093
    // method 1 key identifier, both computed here rather than by rcgen's crypto.
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&key.serial().map_err(TlsError::Setup)?));
    params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(key.key_identifier());
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth, rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key).map_err(|e| TlsError::Setup(e.to_string()))?;
    let cert_der = cert.der().to_vec();
    let certified = CertifiedKey::new(vec![CertificateDer::from(cert_der.clone())], Arc::new(key));

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    // grpc-go refuses TLS connections that did not negotiate h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls { config: Arc::new(config), cert_der })
}

/// The crypto of the plugin's TLS: aws-lc-rs's record ciphers and signature
/// verification (P-521 included), with key exchange, signing and the handshake's
/// random bytes drawing on the operating system's CSPRNG (see the module docs).
fn plugin_crypto() -> CryptoProvider {
    let aws = aws_lc_rs::default_provider();
    CryptoProvider {
        // Go's TLS client offers X25519 first (and P-256); both are ring's.
        kx_groups: vec![&OsKx::X25519 as &dyn SupportedKxGroup, &OsKx::P256],
        secure_random: &OsRandom,
        ..aws
    }
}

/// rustls' source of handshake randoms and session identifiers.
#[derive(Debug)]
struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
        SystemRandom::new().fill(buf).map_err(|_| rustls::crypto::GetRandomFailed)
    }
}

/// Ephemeral ECDH with a fresh key from the operating system's CSPRNG.
#[derive(Debug)]
enum OsKx {
    X25519,
    P256,
}

impl OsKx {
    fn algorithm(&self) -> &'static agreement::Algorithm {
        match self {
            OsKx::X25519 => &agreement::X25519,
            OsKx::P256 => &agreement::ECDH_P256,
        }
    }

    /// The shape TLS allows for the peer's share; ring checks the point itself.
    fn well_formed(&self, peer: &[u8]) -> bool {
        match self {
            OsKx::X25519 => peer.len() == 32,
            // Uncompressed points only (RFC 8446, 4.2.8.2).
            OsKx::P256 => peer.first() == Some(&0x04),
        }
    }
}

impl SupportedKxGroup for OsKx {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let private = agreement::EphemeralPrivateKey::generate(self.algorithm(), &SystemRandom::new())
            .map_err(|_| rustls::crypto::GetRandomFailed)?;
        let public = private.compute_public_key().map_err(|_| rustls::crypto::GetRandomFailed)?;
        let group = match self {
            OsKx::X25519 => &OsKx::X25519,
            OsKx::P256 => &OsKx::P256,
        };
        Ok(Box::new(OsKeyExchange { group, private, public }))
    }

    fn name(&self) -> NamedGroup {
        match self {
            OsKx::X25519 => NamedGroup::X25519,
            OsKx::P256 => NamedGroup::secp256r1,
        }
    }
}

struct OsKeyExchange {
    group: &'static OsKx,
    private: agreement::EphemeralPrivateKey,
    public: agreement::PublicKey,
}

impl ActiveKeyExchange for OsKeyExchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        if !self.group.well_formed(peer) {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        let peer = agreement::UnparsedPublicKey::new(self.group.algorithm(), peer);
        agreement::agree_ephemeral(self.private, &peer, |secret| SharedSecret::from(secret))
            .map_err(|_| PeerMisbehaved::InvalidKeyShare.into())
    }

    fn pub_key(&self) -> &[u8] {
        self.public.as_ref()
    }

    fn group(&self) -> NamedGroup {
        self.group.name()
    }
}

/// The server's ECDSA P-256 key: made from the operating system's CSPRNG, used to
/// sign the self-signed certificate (rcgen) and the TLS handshakes (rustls), with
/// fresh nonces from the same source.
#[derive(Clone)]
struct OsEcdsaKey {
    pair: Arc<signature::EcdsaKeyPair>,
}

impl std::fmt::Debug for OsEcdsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OsEcdsaKey(P-256)")
    }
}

impl OsEcdsaKey {
    /// ASN.1 (DER) signatures: what X.509 and TLS both carry.
    const ALG: &'static signature::EcdsaSigningAlgorithm = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;

    fn generate() -> Result<Self, String> {
        let rng = SystemRandom::new();
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(Self::ALG, &rng)
            .map_err(|_| "cannot draw a key from the operating system's random source".to_owned())?;
        let pair = signature::EcdsaKeyPair::from_pkcs8(Self::ALG, pkcs8.as_ref(), &rng)
            .map_err(|e| format!("cannot load the generated key: {e}"))?;
        Ok(OsEcdsaKey { pair: Arc::new(pair) })
    }

    /// A positive 128-bit certificate serial number.
    fn serial(&self) -> Result<[u8; 16], String> {
        let mut serial = [0u8; 16];
        SystemRandom::new().fill(&mut serial).map_err(|_| {
            "cannot draw a serial number from the operating system's random source".to_owned()
        })?;
        serial[0] &= 0x7f;
        Ok(serial)
    }

    /// RFC 7093 method 1: the leftmost 160 bits of SHA-256 of the public key.
    fn key_identifier(&self) -> Vec<u8> {
        ring::digest::digest(&ring::digest::SHA256, rcgen::PublicKeyData::der_bytes(self)).as_ref()[..20]
            .to_vec()
    }

    fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        self.pair.sign(&SystemRandom::new(), message).ok().map(|s| s.as_ref().to_vec())
    }
}

impl rcgen::PublicKeyData for OsEcdsaKey {
    fn der_bytes(&self) -> &[u8] {
        signature::KeyPair::public_key(self.pair.as_ref()).as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for OsEcdsaKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        OsEcdsaKey::sign(self, msg).ok_or(rcgen::Error::RingUnspecified)
    }
}

impl rustls::sign::SigningKey for OsEcdsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| Box::new(self.clone()) as Box<dyn rustls::sign::Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl rustls::sign::Signer for OsEcdsaKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        OsEcdsaKey::sign(self, message)
            .ok_or_else(|| rustls::Error::General("ECDSA signing failed".to_owned()))
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}

/// Accepts exactly one client certificate: the one Terraform handed us.
#[derive(Debug)]
struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p521_client() -> (String, Vec<u8>) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        (params.self_signed(&key).unwrap().pem(), key.serialize_der())
    }

    fn p521_client_pem() -> String {
        p521_client().0
    }

    #[test]
    fn p521_client_certificates_are_accepted_and_pinned() {
        let pem = p521_client_pem();
        let tls = server_tls(&pem).unwrap();
        assert!(tls.cert_der.len() > 50, "go-plugin ignores certificates of 50 bytes or less");
        assert_eq!(tls.config.alpn_protocols, vec![b"h2".to_vec()]);
        let pinned = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        let v = PinnedClientCert {
            pinned: pinned.clone(),
            algs: aws_lc_rs::default_provider().signature_verification_algorithms,
        };
        assert!(v.verify_client_cert(&pinned, &[], UnixTime::now()).is_ok());
        let other = CertificateDer::from_pem_slice(p521_client_pem().as_bytes()).unwrap();
        assert!(v.verify_client_cert(&other, &[], UnixTime::now()).is_err());
        assert!(v.supported_verify_schemes().contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn garbage_client_certificates_are_refused() {
        assert!(matches!(server_tls("not a pem"), Err(TlsError::ClientCert(_))));
    }

    #[test]
    fn every_start_has_a_fresh_key_and_serial() {
        let pem = p521_client_pem();
        let (a, b) = (server_tls(&pem).unwrap().cert_der, server_tls(&pem).unwrap().cert_der);
        assert_ne!(a, b);
        let (k1, k2) = (OsEcdsaKey::generate().unwrap(), OsEcdsaKey::generate().unwrap());
        assert_ne!(rcgen::PublicKeyData::der_bytes(&k1), rcgen::PublicKeyData::der_bytes(&k2));
        assert_ne!(k1.serial().unwrap(), k1.serial().unwrap());
        assert_eq!(k1.serial().unwrap()[0] & 0x80, 0, "serial numbers are positive");
    }

    /// Go's TLS client as Terraform configures it, played by rustls: trusts the
    /// server certificate as its own root and presents a P-521 client certificate.
    #[derive(Debug)]
    struct TrustExactly(Vec<u8>, WebPkiSupportedAlgorithms);

    impl rustls::client::danger::ServerCertVerifier for TrustExactly {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &rustls::pki_types::ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            assert_eq!(end_entity.as_ref(), self.0.as_slice());
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(m, c, d, &self.1)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(m, c, d, &self.1)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.1.supported_schemes()
        }
    }

    fn handshake(version: &'static rustls::SupportedProtocolVersion, group: NamedGroup) {
        let (pem, key) = p521_client();
        let server = server_tls(&pem).unwrap();
        let aws = aws_lc_rs::default_provider();
        let algs = aws.signature_verification_algorithms;
        let kx = aws.kx_groups.iter().copied().filter(|g| g.name() == group).collect();
        let mut client =
            rustls::ClientConfig::builder_with_provider(Arc::new(CryptoProvider { kx_groups: kx, ..aws }))
                .with_protocol_versions(&[version])
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(TrustExactly(server.cert_der.clone(), algs)))
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
                )
                .unwrap();
        client.alpn_protocols = vec![b"h2".to_vec()];
        let mut c = rustls::ClientConnection::new(Arc::new(client), "localhost".try_into().unwrap()).unwrap();
        let mut s = rustls::ServerConnection::new(server.config).unwrap();
        for _ in 0..10 {
            let mut buf = Vec::new();
            c.write_tls(&mut buf).unwrap();
            s.read_tls(&mut buf.as_slice()).unwrap();
            s.process_new_packets().unwrap();
            buf.clear();
            s.write_tls(&mut buf).unwrap();
            c.read_tls(&mut buf.as_slice()).unwrap();
            c.process_new_packets().unwrap();
        }
        assert!(!c.is_handshaking() && !s.is_handshaking(), "{version:?} {group:?}");
        assert_eq!(s.alpn_protocol(), Some(&b"h2"[..]));
        assert_eq!(c.negotiated_key_exchange_group().unwrap().name(), group);
        let seen = s.peer_certificates().unwrap()[0].as_ref().to_vec();
        assert_eq!(seen, CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().as_ref());
    }

    #[test]
    fn mutual_handshakes_complete_over_tls13_and_tls12_with_each_group() {
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            for group in [NamedGroup::X25519, NamedGroup::secp256r1] {
                handshake(version, group);
            }
        }
    }
}
