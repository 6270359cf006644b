//! go-plugin AutoMTLS: a throwaway self-signed server certificate (sent to
//! Terraform in the handshake line) and the client certificate Terraform passed in
//! `PLUGIN_CLIENT_CERT`, pinned byte for byte.
//!
//! Terraform's client certificate is a self-signed CA certificate with an ECDSA
//! P-521 key. The WebPKI verifier rejects such a certificate as an end entity, so
//! the pin is a small custom verifier; the handshake signatures are still checked
//! with aws-lc-rs, which verifies P-521.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{WebPkiSupportedAlgorithms, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

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
    let provider = Arc::new(aws_lc_rs::default_provider());
    let verifier = PinnedClientCert { pinned: client, algs: provider.signature_verification_algorithms };

    // The same shape as go-plugin's own server certificate: Terraform checks it
    // against itself as root, for the name "localhost".
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(|e| TlsError::Setup(e.to_string()))?;
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
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key_der)
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    // grpc-go refuses TLS connections that did not negotiate h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls { config: Arc::new(config), cert_der })
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

    fn p521_client_pem() -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
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
}
