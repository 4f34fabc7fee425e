# NixOS module: agentd as a hardened system service.
#
#   imports = [ agentd.nixosModules.default ];   # or ./nix/module.nix without the flake
#   services.agentd = {
#     enable = true;
#     tokenFile = "/run/secrets/agentd-token";
#     agentCommand = "${pkgs.claude-code}/bin/claude";
#   };
#
# Persistent agents are systemd *user* services and need a user manager: run agentd with the
# home-manager module (hm-module.nix) for them. This service runs run-mode agents, as its
# children, inside its own sandbox.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.agentd;
  common = import ./common.nix { inherit lib; };

  directories = [
    cfg.dataDir
    cfg.logDir
    cfg.workspaceDir
    cfg.stateDir
  ];
  underHome = path: lib.any (home: path == home || lib.hasPrefix "${home}/" path) [ "/home" "/root" ];
  needsHome = lib.any underHome (directories ++ lib.optional (cfg.agentCommand != null) cfg.agentCommand);
in
{
  options.services.agentd =
    common.options {
      inherit pkgs;
      dirs = {
        dataDir.default = "/var/lib/agentd";
        logDir.default = "/var/log/agentd";
        workspaceDir.default = "/var/lib/agentd/workspaces";
        stateDir.default = "/var/lib/agentd/agents";
      };
    }
    // {
      enable = lib.mkEnableOption "agentd, the supervisor of LLM coding agents, as a system service";

      user = lib.mkOption {
        type = lib.types.str;
        default = "agentd";
        description = ''
          Account the daemon and its agents run as. The default, agentd, is created as a system
          user whose home is dataDir; another name must be an existing account.
        '';
      };

      group = lib.mkOption {
        type = lib.types.str;
        default = "agentd";
        description = "Group the daemon runs as; the default, agentd, is created.";
      };
    };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.tokenFile == null || !lib.hasPrefix builtins.storeDir cfg.tokenFile;
        message = "services.agentd.tokenFile is in the Nix store, which every user can read; point it at a file outside the store";
      }
    ];

    users.users = lib.mkIf (cfg.user == "agentd") {
      agentd = {
        isSystemUser = true;
        inherit (cfg) group;
        home = cfg.dataDir;
        description = "agentd daemon";
      };
    };
    users.groups = lib.mkIf (cfg.group == "agentd") { agentd = { }; };

    # ReadWritePaths must exist before the service starts, owned by its user.
    systemd.tmpfiles.rules = map (dir: "d '${dir}' 0700 ${cfg.user} ${cfg.group} - -") directories;

    # The command line client, to talk to the daemon.
    environment.systemPackages = [ cfg.package ];

    systemd.services.agentd = {
      description = "agentd: supervisor for LLM coding agents";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      inherit (cfg) environment;

      serviceConfig = {
        Type = "simple";
        # %d is systemd's credentials directory, where LoadCredential puts the token file.
        ExecStart =
          "${cfg.package}/bin/agentd daemon ${common.execWords (common.daemonArgs cfg)}"
          + lib.optionalString (cfg.tokenFile != null) " --token-file %d/token";
        User = cfg.user;
        Group = cfg.group;
        # Read by systemd as root and handed to the service's user, whoever owns the file.
        LoadCredential = lib.optional (cfg.tokenFile != null) "token:${cfg.tokenFile}";
        EnvironmentFile = lib.optional (cfg.environmentFile != null) cfg.environmentFile;
        Restart = "on-failure";
        RestartSec = 2;
        # SIGTERM to the daemon alone first: it stops its agents within their grace period.
        KillMode = "mixed";
        TimeoutStopSec = 30;

        # Read-only everywhere but agentd's own directories; the agents inherit this.
        ProtectSystem = "strict";
        ReadWritePaths = directories;
        # Homes stay hidden unless agentd needs something there; then they are read-only.
        ProtectHome = if needsHome then "read-only" else true;
        PrivateTmp = true;
        NoNewPrivileges = true;
      };
    };
  };
}
