# home-manager module: agentd as a systemd user service, with persistent agents.
#
#   imports = [ agentd.homeManagerModules.default ];   # or ./nix/hm-module.nix
#   services.agentd = {
#     enable = true;
#     agentCommand = "${pkgs.claude-code}/bin/claude";
#   };
#
# A user manager stops its services at logout unless the user lingers: on NixOS set
# `users.users.<name>.linger = true`, elsewhere run `loginctl enable-linger`.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.agentd;
  common = import ./common.nix { inherit lib; };
  xdgDefault = dir: path: {
    default = "${config.xdg.${dir}}/${path}";
    defaultText = lib.literalExpression ''"''${config.xdg.${dir}}/${path}"'';
  };
in
{
  options.services.agentd =
    common.options {
      inherit pkgs;
      # The daemon's own defaults for a user, spelled out so the unit does not depend on them.
      dirs = {
        dataDir = xdgDefault "dataHome" "agentd";
        logDir = xdgDefault "stateHome" "agentd/logs";
        workspaceDir = xdgDefault "dataHome" "agentd/workspaces";
        stateDir = xdgDefault "stateHome" "agentd/agents";
      };
    }
    // {
      enable = lib.mkEnableOption "agentd, the supervisor of LLM coding agents, as a user service";
    };

  config = lib.mkIf cfg.enable {
    # The command line client, to talk to the daemon.
    home.packages = [ cfg.package ];

    systemd.user.services.agentd = {
      # No network-online.target: a user manager has none to order after.
      Unit.Description = "agentd: supervisor for LLM coding agents";

      Service = {
        Type = "simple";
        ExecStart = "${cfg.package}/bin/agentd daemon ${
          common.execWords (
            common.daemonArgs cfg
            ++ lib.optionals (cfg.tokenFile != null) [
              "--token-file"
              cfg.tokenFile
            ]
          )
        }";
        Environment = lib.mapAttrsToList common.environmentWord cfg.environment;
        EnvironmentFile = lib.optional (cfg.environmentFile != null) cfg.environmentFile;
        Restart = "on-failure";
        RestartSec = 2;
        # SIGTERM to the daemon alone first: it stops its run-mode agents within their grace
        # period. Persistent agents are units of their own and keep running.
        KillMode = "mixed";
        TimeoutStopSec = 30;
        # What a user manager can enforce without mount namespaces.
        NoNewPrivileges = true;
      };

      Install.WantedBy = [ "default.target" ];
    };
  };
}
