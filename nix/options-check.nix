# Evaluates both modules with stand-ins for the rest of NixOS and home-manager, and lists what
# is wrong: options without a description, and services that do not come out as they must.
# The flake runs it as checks.<system>.options; by hand, with a nixpkgs checkout:
#   nix-instantiate --eval --strict -E 'import ./nix/options-check.nix { lib = import <nixpkgs/lib>; }'
# An empty list means all is well.
{ lib }:
let
  inherit (lib) mkOption types;
  anything = mkOption {
    type = types.anything;
    default = { };
  };
  package = {
    type = "derivation";
    name = "agentd";
    outPath = "/nix/store/00000000000000000000000000000000-agentd";
  };
  # Only what the modules set or read, taken as given.
  host = {
    options = {
      assertions = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
      };
      users = anything;
      systemd = anything;
      environment = anything;
      home = anything;
      xdg = anything;
    };
    config._module.args.pkgs.callPackage = _: _: package;
    config.xdg = {
      dataHome = "/home/ann/.local/share";
      stateHome = "/home/ann/.local/state";
    };
  };
  evaluate =
    module: settings:
    lib.evalModules {
      modules = [
        host
        module
        { services.agentd = { enable = true; } // settings; }
      ];
    };
  nixos = evaluate ./module.nix { tokenFile = "/run/secrets/agentd-token"; };
  hm = evaluate ./hm-module.nix { tokenFile = "/home/ann/.config/agentd/token"; };
  undocumented =
    name: evaluated:
    map (option: "${name}: ${option.name} has no description") (
      lib.filter (option: option.description or null == null) (
        lib.optionAttrSetToDocList evaluated.options.services.agentd
      )
    );
  expect = what: ok: lib.optional (!ok) what;
  nixosService = nixos.config.systemd.services.agentd.serviceConfig;
  hmService = hm.config.systemd.user.services.agentd;
in
undocumented "NixOS module" nixos
++ undocumented "home-manager module" hm
++ expect "NixOS: ExecStart runs the package's agentd daemon with the token as a credential" (
  lib.hasPrefix "${package}/bin/agentd daemon " nixosService.ExecStart
  && lib.hasSuffix " --token-file %d/token" nixosService.ExecStart
  && nixosService.LoadCredential == [ "token:/run/secrets/agentd-token" ]
)
++ expect "NixOS: the service is hardened" (
  nixosService.ProtectSystem == "strict"
  && nixosService.ProtectHome == true
  && nixosService.PrivateTmp
  && nixosService.NoNewPrivileges
  && nixosService.ReadWritePaths == [
    "/var/lib/agentd"
    "/var/log/agentd"
    "/var/lib/agentd/workspaces"
    "/var/lib/agentd/agents"
  ]
)
++ expect "home-manager: a user service on XDG paths, with no network-online.target" (
  lib.hasInfix ''"--db" "/home/ann/.local/share/agentd/agentd.db"'' hmService.Service.ExecStart
  && lib.hasSuffix ''"--token-file" "/home/ann/.config/agentd/token"'' hmService.Service.ExecStart
  && hmService.Install.WantedBy == [ "default.target" ]
  && !(hmService.Unit ? After)
)
