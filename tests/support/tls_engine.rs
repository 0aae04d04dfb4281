//! A TLS engine endpoint on 127.0.0.1, as a dockerd started with `--tlsverify`
//! listens: it requires a client certificate signed by its CA and forwards each
//! connection to the local engine's socket. The certificates are made per run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use tokio::net::{TcpListener, UnixStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig, crypto};

/// A certificate authority that signs server and client certificates.
pub struct Authority {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl Authority {
    pub fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("CA key");
        let pem = params.self_signed(&key).expect("CA certificate").pem();
        Authority { params, key, pem }
    }

    /// A certificate for `names` with `usage`, and its key, both as PEM.
    fn sign(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("key");
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("sign");
        (cert.pem(), key.serialize_pem())
    }

    /// Writes what the docker CLI expects in DOCKER_CERT_PATH: `ca` (this
    /// authority's certificate, which the client trusts) and a client certificate
    /// and key signed by this authority.
    pub fn client_dir(&self, dir: &Path, ca: &Authority) {
        let (cert, key) = self.sign(&["client"], ExtendedKeyUsagePurpose::ClientAuth);
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(dir.join("ca.pem"), &ca.pem).expect("write ca.pem");
        std::fs::write(dir.join("cert.pem"), cert).expect("write cert.pem");
        std::fs::write(dir.join("key.pem"), key).expect("write key.pem");
    }
}

/// The endpoint; it serves until the test process ends.
pub struct TlsEngine {
    pub port: u16,
}

impl TlsEngine {
    /// Serves on a free port with a certificate for 127.0.0.1 and localhost signed by
    /// `server_ca`, accepting only clients whose certificate `client_ca` signed.
    pub fn start(server_ca: &Authority, client_ca: &Authority) -> TlsEngine {
        let (cert, key) = server_ca.sign(
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).expect("server cert")];
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("server key");
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(client_ca.pem.as_bytes()).expect("client CA"))
            .expect("trust the client CA");
        let provider = Arc::new(crypto::ring::default_provider());
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .expect("client verifier");
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        let upstream = local_socket();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(serve(listener, acceptor, upstream));
        });
        TlsEngine { port }
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

async fn serve(listener: std::net::TcpListener, acceptor: TlsAcceptor, upstream: PathBuf) {
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let acceptor = acceptor.clone();
        let upstream = upstream.clone();
        tokio::spawn(async move {
            // A refused handshake is what some tests are about; it just ends here.
            let Ok(mut client) = acceptor.accept(client).await else {
                return;
            };
            let Ok(mut engine) = UnixStream::connect(&upstream).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
        });
    }
}

/// The suite's engine socket.
fn local_socket() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if host.starts_with("unix://") => PathBuf::from(&host["unix://".len()..]),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}
