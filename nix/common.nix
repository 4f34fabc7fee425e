# What the NixOS module (module.nix) and the home-manager module (hm-module.nix) share: the
# options both take, and the daemon's command line made from them.
{ lib }:
let
  inherit (lib) literalExpression mkOption types;

  # A string, not a Nix path: a path literal would be copied into the world-readable store.
  absolutePath = types.strMatching "/.*";

  # One word of a systemd Exec line, quoted, with `%` and `$` doubled so systemd passes it on
  # byte for byte (the rule `agentd install` follows too).
  execWord = arg: lib.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON arg);
in
{
  inherit absolutePath;

  execWords = args: lib.concatMapStringsSep " " execWord args;

  # One Environment= value: quoted, `%` doubled (no `$` expansion happens there).
  environmentWord = name: value: lib.replaceStrings [ "%" ] [ "%%" ] (builtins.toJSON "${name}=${value}");

  # The options of both modules. `dirs` gives dataDir, logDir, workspaceDir and stateDir their
  # defaults, as { default; defaultText?; }: system paths for NixOS, XDG ones for home-manager.
  options =
    { pkgs, dirs }:
    let
      dirOption =
        name: description:
        mkOption (
          {
            type = absolutePath;
            inherit description;
          }
          // dirs.${name}
        );
    in
    {
      package = mkOption {
        type = types.package;
        default = pkgs.callPackage ./package.nix { };
        defaultText = literalExpression "pkgs.callPackage ./nix/package.nix { } (the flake's packages.\${system}.agentd)";
        description = "The agentd package; its bin/agentd runs the daemon.";
      };

      host = mkOption {
        type = types.str;
        default = "127.0.0.1";
        description = ''
          Address the HTTP API listens on. The API starts agents that run commands on this host:
          keep it on loopback, or set tokenFile before listening anywhere else.
        '';
      };

      port = mkOption {
        type = types.port;
        default = 8400;
        description = "TCP port of the HTTP API.";
      };

      dataDir = dirOption "dataDir" "Directory of the SQLite database, agentd.db (--db).";
      logDir = dirOption "logDir" "Directory of the agents' logs, one directory per agent (--log-root).";
      workspaceDir = dirOption "workspaceDir" "Directory of the workspaces agentd manages for agents (--workspace).";
      stateDir = dirOption "stateDir" "Directory of the persistent agents' FIFOs and event files (--state-dir).";

      tokenFile = mkOption {
        type = types.nullOr absolutePath;
        default = null;
        example = "/run/secrets/agentd-token";
        description = ''
          File holding the bearer token the API requires (`Authorization: Bearer …`), read when
          the daemon starts. It must be readable by its owner only (mode 0600 or 0400). A string,
          never a Nix path: the store is world-readable. null: no token is required.
        '';
      };

      agentCommand = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = literalExpression ''"''${pkgs.claude-code}/bin/claude"'';
        description = ''
          The agent executable for requests that name none (--agent-command), by absolute path:
          the service's PATH is not a login shell's. null: agentd's default, `agent` on PATH.
        '';
      };

      environment = mkOption {
        type = types.attrsOf types.str;
        default = { };
        example = {
          AGENTD_TITLE_URL = "http://127.0.0.1:11434/v1/chat/completions";
          AGENTD_TITLE_MODEL = "llama3.2";
        };
        description = ''
          Environment variables for the daemon, and through it for the agents it runs. They end
          up in the store: put secrets (AGENTD_WEBHOOK_SECRET, AGENTD_TITLE_KEY) in
          environmentFile instead.
        '';
      };

      environmentFile = mkOption {
        type = types.nullOr absolutePath;
        default = null;
        example = "/run/secrets/agentd.env";
        description = ''
          File of KEY=value lines (systemd's EnvironmentFile= format) with the daemon's secrets,
          such as AGENTD_WEBHOOK_SECRET and AGENTD_TITLE_KEY; read by systemd when the service
          starts. A string, never a Nix path.
        '';
      };

      extraArgs = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [
          "--event-retention"
          "50000"
          "--log-level"
          "debug"
        ];
        description = "More flags for `agentd daemon`, each element one argument (see `agentd daemon --help`).";
      };
    };

  # `agentd daemon`'s arguments, less the token file (each module hands that over its own way).
  daemonArgs =
    cfg:
    [
      "--host"
      cfg.host
      "--port"
      (toString cfg.port)
      "--db"
      "${cfg.dataDir}/agentd.db"
      "--log-root"
      cfg.logDir
      "--workspace"
      cfg.workspaceDir
      "--state-dir"
      cfg.stateDir
    ]
    ++ lib.optionals (cfg.agentCommand != null) [
      "--agent-command"
      cfg.agentCommand
    ]
    ++ cfg.extraArgs;
}
