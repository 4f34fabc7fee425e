# agentd, compiled by `bun run build` into one executable: $out/bin/agentd.
#
#   nix build .#agentd                         (with the flake)
#   nix-build -E 'with import <nixpkgs> { }; callPackage ./nix/package.nix { }'
{
  lib,
  stdenvNoCC,
  bun,
  writableTmpDirAsHomeHook,
  # The git commit built from, reported by `agentd version`; the flake passes its own.
  commit ? null,
  # Seconds since the epoch recorded as the build time; the flake passes the commit's time.
  sourceDateEpoch ? null,
}:
let
  packageJson = lib.importJSON ../package.json;
  fromRepo = files: lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions files;
  };
in
stdenvNoCC.mkDerivation (finalAttrs: {
  pname = "agentd";
  inherit (packageJson) version;

  src = fromRepo [
    ../package.json
    ../bun.lock
    ../bunfig.toml
    ../tsconfig.json
    ../build.ts
    ../build-options.ts
    ../src
  ];

  # The dependencies bun.lock pins, fetched by bun itself: a fixed-output derivation, the only
  # step allowed the network. After a change to bun.lock, `nix/node-modules-hash.sh` prints the
  # new hash (and a build with the old one fails, naming the hash it got).
  node_modules = stdenvNoCC.mkDerivation {
    pname = "${finalAttrs.pname}-node_modules";
    inherit (finalAttrs) version;
    src = fromRepo [
      ../package.json
      ../bun.lock
      ../bunfig.toml
      ./install-node-modules.sh
    ];

    nativeBuildInputs = [
      bun
      writableTmpDirAsHomeHook
    ];

    impureEnvVars = lib.fetchers.proxyImpureEnvVars ++ [
      "GIT_PROXY_COMMAND"
      "SOCKS_SERVER"
    ];

    dontConfigure = true;

    buildPhase = ''
      runHook preBuild
      export BUN_INSTALL_CACHE_DIR=$(mktemp -d)
      bash nix/install-node-modules.sh
      runHook postBuild
    '';

    installPhase = ''
      runHook preInstall
      cp -R node_modules $out
      runHook postInstall
    '';

    # A fixed-output derivation must not refer to other store paths; fixup would add some.
    dontFixup = true;

    outputHash = "sha256-rta5bZIjYSp2nv9sb+e5x5U8k7vebZd9NQxh5p37zOU=";
    outputHashAlgo = "sha256";
    outputHashMode = "recursive";
  };

  nativeBuildInputs = [
    bun
    writableTmpDirAsHomeHook
  ];

  env = lib.optionalAttrs (commit != null) { AGENTD_COMMIT = commit; }
    // lib.optionalAttrs (sourceDateEpoch != null) { SOURCE_DATE_EPOCH = toString sourceDateEpoch; };

  configurePhase = ''
    runHook preConfigure
    cp -R ${finalAttrs.node_modules} node_modules
    chmod -R u+w node_modules
    runHook postConfigure
  '';

  buildPhase = ''
    runHook preBuild
    bun run build
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    install -Dm755 dist/agentd $out/bin/agentd
    runHook postInstall
  '';

  # The compiled program rides inside the executable where ELF tools do not look: stripping
  # leaves a bare Bun. Nor is there anything for patchelf to fix: the executable is nixpkgs'
  # bun, already patched, with the program added.
  dontStrip = true;
  dontPatchELF = true;

  doInstallCheck = true;
  installCheckPhase = ''
    runHook preInstallCheck
    $out/bin/agentd version | grep -F "agentd ${finalAttrs.version}"
    runHook postInstallCheck
  '';

  passthru = { inherit (finalAttrs) node_modules; };

  meta = {
    description = "Supervises LLM coding agents on a Linux host";
    mainProgram = "agentd";
    platforms = lib.platforms.linux;
    sourceProvenance = [ lib.sourceTypes.fromSource ];
  };
})
