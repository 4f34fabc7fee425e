{
  description = "agentd: supervises LLM coding agents on a Linux host";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      packageFor = pkgs: self.packages.${pkgs.stdenv.hostPlatform.system}.agentd;
    in
    {
      packages = forAllSystems (pkgs: {
        agentd = pkgs.callPackage ./nix/package.nix {
          commit = self.shortRev or self.dirtyShortRev or null;
          sourceDateEpoch = self.lastModified or null;
        };
        default = packageFor pkgs;
      });

      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.agentd.package = lib.mkDefault (packageFor pkgs);
        };

      homeManagerModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/hm-module.nix ];
          services.agentd.package = lib.mkDefault (packageFor pkgs);
        };

      checks = forAllSystems (pkgs: {
        package = packageFor pkgs;
        # Every option documented, and the services as they must be (nix/options-check.nix).
        options =
          let
            problems = import ./nix/options-check.nix { inherit lib; };
          in
          pkgs.runCommand "agentd-module-options" { } (
            if problems == [ ] then
              "touch $out"
            else
              throw "agentd modules:\n${lib.concatStringsSep "\n" problems}"
          );
        nixos = pkgs.testers.runNixOSTest (import ./nix/nixos-test.nix { inherit self; });
      });
    };
}
