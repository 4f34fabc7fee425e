# A NixOS VM with services.agentd: the daemon comes up hardened, answers /health, requires its
# token, and survives a restart. Run by the flake's checks (`nix flake check`).
{ self }:
{
  name = "agentd";

  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ self.nixosModules.default ];
      environment.systemPackages = [ pkgs.curl ];
      # A test secret: made root-only by the copy environment.etc makes with a mode. Real ones
      # stay out of the store (agenix, sops-nix, or a file put in place by hand).
      environment.etc."agentd/token" = {
        text = "vm-test-token";
        mode = "0400";
      };
      services.agentd = {
        enable = true;
        tokenFile = "/etc/agentd/token";
      };
    };

  testScript = ''
    machine.wait_for_unit("agentd.service")
    machine.wait_for_open_port(8400)

    health = machine.succeed("curl -sf http://127.0.0.1:8400/health")
    version = machine.succeed("agentd version").strip().removeprefix("agentd ")
    assert f'"version":"{version}"' in health, health

    machine.succeed("test \"$(systemctl show -p User --value agentd)\" = agentd")
    machine.succeed("test \"$(systemctl show -p ProtectSystem --value agentd)\" = strict")
    machine.succeed("test \"$(stat -c %U /var/lib/agentd/agentd.db)\" = agentd")

    machine.fail("curl -sf http://127.0.0.1:8400/agents")
    machine.succeed("curl -sf -H 'Authorization: Bearer vm-test-token' http://127.0.0.1:8400/agents")

    machine.succeed("systemctl restart agentd.service")
    machine.wait_for_unit("agentd.service")
    machine.wait_for_open_port(8400)
    machine.succeed("curl -sf http://127.0.0.1:8400/health")
  '';
}
