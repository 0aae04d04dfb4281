//! The fully resolved environment, and its fingerprint: the proof that two machines
//! run the same thing.
//!
//! Everything that makes containers differ is in the view (image digests, command,
//! env including wired variables, aliases, volumes, ports, probes) and nothing that
//! is merely local (absolute paths, the image prefix, whether CI is set), so the
//! fingerprint is equal wherever the files and the lock are.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{self, Probe, Project, ServiceKind};
use crate::engine::Mount;
use crate::hash::hex;
use crate::images::{ImageError, Images};
use crate::lock;
use crate::plan::{ImagePlan, Plan};

/// The resolved project as printed by `gorae config --resolved`.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedProject {
    pub name: String,
    pub network: String,
    pub services: BTreeMap<String, ResolvedService>,
    /// `sha256:...` of the services, secrets included (only their hash is shown).
    pub fingerprint: String,
}

/// One service, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedService {
    pub kind: ServiceKind,
    /// Reference without the image prefix, or the content-hash tag of a build.
    pub image: String,
    /// Locked digest of a pulled image; the content hash of a built one.
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<Probe>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

/// Resolves images (pulling missing ones, never building) and assembles the view.
/// With a lock, images are what it names, as `up` runs them: a pulled service shows
/// its locked digest, and a built one the content tag of a build on the locked base
/// images.
pub async fn resolve(
    project: &Project,
    plan: &Plan,
    images: &Images<'_>,
    locked: Option<&lock::Lockfile>,
) -> Result<ResolvedProject, ImageError> {
    let entry = |service: &str, reference: &str| {
        locked
            .and_then(|l| l.services.get(service))
            .and_then(|s| s.images.get(&lock::unprefix(project, reference)))
    };
    for service in &plan.services {
        if let ImagePlan::Build(crate::plan::BuildPlan { dockerfile, .. }) = &service.image
            && let Ok(text) = crate::dockerfile::dockerfile_text(dockerfile)
        {
            for base in crate::dockerfile::base_images(&text) {
                if let Some(entry) = entry(&service.name, &base) {
                    images.pin_base(&service.name, &base, &entry.id);
                }
            }
        }
    }
    let mut services = BTreeMap::new();
    for service in &plan.services {
        let (image, digest) = match &service.image {
            ImagePlan::Pull { reference, .. } => match entry(&service.name, reference) {
                Some(entry) => (
                    lock::unprefix(project, reference),
                    entry.digest.clone().unwrap_or_else(|| entry.id.clone()),
                ),
                None => {
                    let info = images.present_or_pull(&service.name, reference).await?;
                    (lock::unprefix(project, reference), lock::digest_of(&info))
                }
            },
            ImagePlan::Build(_) => {
                let tag = images.content_tag(service).await?.unwrap_or_default();
                let digest = tag
                    .rsplit_once(':')
                    .map(|(_, hash)| hash.to_string())
                    .unwrap_or_default();
                (tag, digest)
            }
        };
        let env = service.spec.env.clone();
        services.insert(
            service.name.clone(),
            ResolvedService {
                kind: service.kind,
                image,
                digest,
                command: service.spec.command.clone(),
                env,
                aliases: service.spec.aliases.clone(),
                volumes: service
                    .spec
                    .mounts
                    .iter()
                    .map(|m| mount_words(m, &project.dir))
                    .collect(),
                ports: service
                    .spec
                    .ports
                    .iter()
                    .map(|p| format!("{}:{}:{}", p.host_ip, p.host_port, p.container_port))
                    .collect(),
                ready: service.ready.clone(),
                depends_on: service.depends_on.clone(),
            },
        );
    }
    let fingerprint = fingerprint(&services);
    Ok(ResolvedProject {
        name: project.name.clone(),
        network: plan.network.clone(),
        services,
        fingerprint,
    })
}

impl ResolvedProject {
    /// The same view with secret values masked, for printing.
    pub fn masked(&self, project: &Project) -> ResolvedProject {
        let mut masked = self.clone();
        for (name, service) in &mut masked.services {
            let secret_env = project
                .services
                .get(name)
                .map(|s| s.secret_env.as_slice())
                .unwrap_or_default();
            service.env = config::mask_env(&service.env, secret_env);
        }
        masked
    }
}

fn fingerprint(services: &BTreeMap<String, ResolvedService>) -> String {
    // Plain data always serialises.
    let json = serde_json::to_vec(services).unwrap_or_default();
    format!("sha256:{}", hex(&Sha256::digest(json)))
}

/// `source:target[:ro]`, with sources inside the project written relative to it.
fn mount_words(mount: &Mount, project_dir: &Path) -> String {
    let (source, target, read_only) = match mount {
        Mount::Bind {
            source,
            target,
            read_only,
        } => {
            let relative = source
                .strip_prefix(project_dir)
                .map(|rel| format!("./{}", rel.display()))
                .unwrap_or_else(|_| source.display().to_string());
            (relative, target, *read_only)
        }
        Mount::Volume {
            name,
            target,
            read_only,
        } => (name.clone(), target, *read_only),
        // Only where: the value differs between machines (a CI secret), the lock not.
        Mount::Secret { target, .. } => ("secret".to_string(), target, true),
    };
    format!("{source}:{target}{}", if read_only { ":ro" } else { "" })
}
