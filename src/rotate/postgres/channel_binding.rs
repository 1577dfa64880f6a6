//! `tls-server-end-point` channel binding (RFC 5929, section 4.1), the one PostgreSQL's
//! SCRAM-SHA-256-PLUS uses: the hash of the server's certificate, with the hash function of the
//! certificate's own signature (SHA-256 when that is MD5 or SHA-1). A login bound to it fails
//! when someone between us and the server ends our TLS with a certificate of its own and
//! relays the exchange, whatever sslmode checked.

use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// The hashes of the signature algorithms RFC 5929 defines one for, by the DER bytes of their
/// OIDs (PKCS #1 RSA and ECDSA; RSASSA-PSS and Ed25519 have none, and PostgreSQL fails there too).
const ALGORITHMS: &[(&[u8], Hash)] = &[
    // 1.2.840.113549.1.1.{4,5,11,12,13,14}: md5, sha1, sha256, sha384, sha512, sha224 WithRSA.
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04],
        Hash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
        Hash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
        Hash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
        Hash::Sha384,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
        Hash::Sha512,
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e],
        Hash::Sha224,
    ),
    // 1.2.840.10045.4.1 and 1.2.840.10045.4.3.{1,2,3,4}: ecdsa-with-SHA1, -SHA224 … -SHA512.
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01], Hash::Sha256),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01],
        Hash::Sha224,
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
        Hash::Sha256,
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
        Hash::Sha384,
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
        Hash::Sha512,
    ),
];

#[derive(Clone, Copy)]
enum Hash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

const SEQUENCE: u8 = 0x30;
const OBJECT_IDENTIFIER: u8 = 0x06;

/// The channel binding data of the server certificate `der`.
pub fn tls_server_end_point(der: &[u8]) -> Result<Vec<u8>, String> {
    let oid = signature_algorithm(der).ok_or_else(|| {
        "the server's certificate is not a DER X.509 certificate, so SCRAM channel binding cannot be computed".to_string()
    })?;
    let hash = ALGORITHMS
        .iter()
        .find(|(known, _)| *known == oid)
        .map(|(_, hash)| *hash)
        .ok_or_else(|| {
            "the server's certificate is signed with an algorithm for which channel binding (tls-server-end-point) defines no hash, such as RSASSA-PSS or Ed25519; refused rather than log in without it".to_string()
        })?;
    Ok(match hash {
        Hash::Sha224 => Sha224::digest(der).to_vec(),
        Hash::Sha256 => Sha256::digest(der).to_vec(),
        Hash::Sha384 => Sha384::digest(der).to_vec(),
        Hash::Sha512 => Sha512::digest(der).to_vec(),
    })
}

/// The OID of `Certificate.signatureAlgorithm`: SEQUENCE { tbsCertificate, AlgorithmIdentifier
/// SEQUENCE { OID, parameters }, signatureValue }.
fn signature_algorithm(der: &[u8]) -> Option<&[u8]> {
    let (certificate, _) = element(der, SEQUENCE)?;
    let (_tbs, rest) = element(certificate, SEQUENCE)?;
    let (algorithm, _) = element(rest, SEQUENCE)?;
    let (oid, _) = element(algorithm, OBJECT_IDENTIFIER)?;
    Some(oid)
}

/// One DER element of type `tag` at the start of `input`: its content and what follows it.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, input) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut input) = input.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        // Long form: the low bits count the length's bytes (a certificate needs at most 4).
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || input.len() < count {
            return None;
        }
        let (bytes, rest) = input.split_at(count);
        input = rest;
        bytes
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte))
    };
    (length <= input.len()).then(|| input.split_at(length))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A certificate's outer shape: an empty tbsCertificate, the algorithm, a signature.
    fn certificate(oid: &[u8]) -> Vec<u8> {
        let mut algorithm = vec![OBJECT_IDENTIFIER, u8::try_from(oid.len()).unwrap_or(0)];
        algorithm.extend_from_slice(oid);
        algorithm.extend_from_slice(&[0x05, 0x00]);
        let mut content = vec![
            SEQUENCE,
            0x00,
            SEQUENCE,
            u8::try_from(algorithm.len()).unwrap_or(0),
        ];
        content.extend_from_slice(&algorithm);
        // A signature long enough that the outer length takes the long form.
        content.extend_from_slice(&[0x03, 0x81, 0x81, 0x00]);
        content.extend_from_slice(&[0xab; 0x80]);
        let mut der = vec![SEQUENCE, 0x81, u8::try_from(content.len()).unwrap_or(0)];
        der.extend_from_slice(&content);
        der
    }

    /// A certificate signed with sha256WithRSAEncryption, for the login tests.
    pub(in crate::rotate::postgres) fn certificate_signed_with_sha256() -> Vec<u8> {
        certificate(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b])
    }

    #[test]
    fn the_hash_follows_the_signature_algorithm() {
        let sha384_rsa = certificate(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c]);
        assert_eq!(
            tls_server_end_point(&sha384_rsa),
            Ok(Sha384::digest(&sha384_rsa).to_vec())
        );
        let ecdsa_sha512 = certificate(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04]);
        assert_eq!(
            tls_server_end_point(&ecdsa_sha512),
            Ok(Sha512::digest(&ecdsa_sha512).to_vec())
        );
    }

    #[test]
    fn md5_and_sha1_signatures_use_sha256() {
        for oid in [
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04][..],
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05][..],
        ] {
            let der = certificate(oid);
            assert_eq!(
                tls_server_end_point(&der),
                Ok(Sha256::digest(&der).to_vec())
            );
        }
    }

    #[test]
    fn unknown_algorithms_and_malformed_certificates_are_errors() {
        // RSASSA-PSS (1.2.840.113549.1.1.10) and Ed25519 (1.3.101.112).
        let pss = certificate(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a]);
        assert!(tls_server_end_point(&pss).is_err_and(|error| error.contains("RSASSA-PSS")));
        assert!(tls_server_end_point(&certificate(&[0x2b, 0x65, 0x70])).is_err());
        let whole = certificate(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]);
        for cut in 0..whole.len() {
            assert!(tls_server_end_point(&whole[..cut]).is_err(), "cut at {cut}");
        }
        assert!(tls_server_end_point(&[0x30, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
