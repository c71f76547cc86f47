//! The files that make a sandbox a manager host: the product's configs,
//! host.yaml, and supervisord's config (with a cluster node's service
//! environment).

use std::path::Path;

use anyhow::Result;

use super::Sandbox;
use crate::product::{self, COMPONENTS};

impl Sandbox {
    pub(super) fn write_configs(&self, release: &Path, version: &str) -> Result<()> {
        let dir = self.path("/etc/manager");
        for c in COMPONENTS.iter().filter_map(|c| c.service) {
            let target = dir.join(c.config);
            std::fs::copy(
                release.join(version).join("configs").join(c.config),
                &target,
            )?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640))?;
        }
        std::fs::create_dir_all(self.path("/var/log/manager"))?;
        std::fs::create_dir_all(self.path("/run"))?;
        Ok(())
    }

    pub(super) fn write_host_config(&self, trusted_key: &Path, rpm_cache: bool) -> Result<()> {
        let keys = self.path("/etc/hop/trusted-keys");
        std::fs::create_dir_all(&keys)?;
        std::fs::copy(trusted_key, keys.join("vendor.pub.asc"))?;
        let text = format!(
            "# The demo manager host (a sandbox made by hop-testdata).\n\
             product: manager\n\
             version_from_rpm: rest-service\n\
             database:\n  url: \"{}\"\n\
             services:\n  manager: supervisord\n  supervisord_conf: /etc/supervisord.conf\n\
             trusted_keys: /etc/hop/trusted-keys/\n{}{}",
            self.database_url(),
            if rpm_cache {
                "rpm_cache: /var/cache/manager/rpms\n"
            } else {
                ""
            },
            self.node
                .as_ref()
                .map(|n| format!("node: {}\n", n.name))
                .unwrap_or_default()
        );
        std::fs::write(self.path("/etc/hop/host.yaml"), text)?;
        Ok(())
    }

    pub(super) fn write_supervisord_conf(&self) -> Result<()> {
        let root = self.root.display();
        let sock = self.socket.display();
        let mut conf = format!(
            "[unix_http_server]\nfile={sock}\nchmod=0700\n\n\
             [supervisord]\nlogfile={root}/var/log/supervisord.log\npidfile={root}/run/supervisord.pid\n\
             childlogdir={root}/var/log/manager\ndirectory={root}\nuser=root\n\n\
             [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             [supervisorctl]\nserverurl=unix://{sock}\n"
        );
        // A cluster node listens where its balancer reaches it, and drains.
        let environment = self
            .node
            .as_ref()
            .map(|n| {
                format!(
                    "environment=MANAGER_BIND=\"0.0.0.0\",MANAGER_DRAIN_SECONDS=\"{}\"\n",
                    n.drain_seconds
                )
            })
            .unwrap_or_default();
        for c in COMPONENTS {
            let Some(s) = c.service else { continue };
            conf += &format!(
                "\n[program:{name}]\ncommand=/usr/bin/python3 {root}{program} --config {root}/etc/manager/{config}\n\
                 autostart=true\nautorestart=unexpected\nstartsecs=0\nstopwaitsecs=10\n{environment}\
                 stdout_logfile={root}/var/log/manager/{name}.log\nredirect_stderr=true\n",
                name = c.name,
                program = product::service_program(c.name),
                config = s.config,
            );
        }
        std::fs::write(self.path("/etc/supervisord.conf"), conf)?;
        Ok(())
    }
}
