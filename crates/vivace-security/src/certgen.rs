//! `vivace gen-cert`: a development certificate authority and a server certificate it signs.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use crate::SecurityError;

/// PEM texts of a generated CA and server certificate.
#[derive(Debug)]
pub struct GeneratedCertificates {
    /// The CA certificate: what clients trust (`verify=ca.pem`).
    pub ca_certificate: String,
    /// The server certificate, the CA certificate and the server's PKCS#8 key: a keystore for
    /// `http-server.https.keystore.path`.
    pub server_keystore: String,
}

fn error(e: rcgen::Error) -> SecurityError {
    SecurityError::Certificate(format!("cannot generate certificate: {e}"))
}

/// A CA and a server certificate for `hosts` (DNS names or IP addresses), valid for `days`.
pub fn generate(hosts: &[String], days: u32) -> Result<GeneratedCertificates, SecurityError> {
    if hosts.is_empty() {
        return Err(SecurityError::Certificate(
            "at least one host is needed".to_string(),
        ));
    }
    let now = time_now();
    let until = now + days_duration(days);

    let ca_key = KeyPair::generate().map_err(error)?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = name("Vivace development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now;
    ca_params.not_after = until;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(error)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(error)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(&hosts[0]);
    params.subject_alt_names = hosts
        .iter()
        .map(|host| match host.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => host
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|_| SecurityError::Certificate(format!("invalid host name: {host}"))),
        })
        .collect::<Result<_, _>>()?;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = now;
    params.not_after = until;
    let server_cert = params.signed_by(&server_key, &issuer).map_err(error)?;

    Ok(GeneratedCertificates {
        ca_certificate: ca_cert.pem(),
        server_keystore: format!(
            "{}{}{}",
            server_cert.pem(),
            ca_cert.pem(),
            server_key.serialize_pem()
        ),
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "Vivace");
    name
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn days_duration(days: u32) -> time::Duration {
    time::Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystore_loads_as_server_certificate() {
        let generated = generate(&["localhost".to_string(), "127.0.0.1".to_string()], 30).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vivace.pem");
        std::fs::write(&path, &generated.server_keystore).unwrap();
        let key = crate::tls::load_certified_key(&path, None).unwrap();
        assert_eq!(key.cert.len(), 2);
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &generated.ca_certificate).unwrap();
        assert_eq!(crate::tls::load_root_store(&ca).unwrap().len(), 1);
    }
}
