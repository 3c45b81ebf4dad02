# sbom-meta.nix: the package metadata (license, description, homepage) of an
# installable and every derivation it depends on, as JSON keyed by .drv path,
# for `nixdock sbom --meta FILE`. Derivations (.drv files) do not carry
# `meta`, so it has to come from evaluating the Nix expression.
#
#   nix-instantiate --eval --strict --json nix/sbom-meta.nix \
#     --arg file ./default.nix --argstr attr image > meta.json
#   nixdock sbom result --format spdx-json --meta meta.json
#
# For a flake: --arg drv '(builtins.getFlake (toString ./.)).packages.x86_64-linux.image'
#
# Arguments:
#   file      a Nix file (a function is called with `args`)
#   attr      attribute path in it, dot-separated ("" for the file itself)
#   args      arguments for the file's function (default {})
#   drv       a derivation value, instead of file/attr
#   depAttrs  the attributes walked for dependencies
#   allAttrs  walk every attribute that is a derivation or a list of them
#             (slower on nixpkgs, finds dependencies under any name)
#
# Output: { "<drvPath>": { license = [ "<spdx id or short name>" ... ];
#   description; homepage; pname; version; outputs = { out = "<store path>"; ... };
#   position; nixpkgs; cpe; cpeParts; possibleCPEs; purls = [ ... ];
#   srcUrls = [ ... ]; maintainers = [ { name; email; github; } ... ]; } }
#
# nixpkgs is true when meta.position (the file that defines the package)
# lies in a tree holding pkgs/top-level/all-packages.nix: the evidence that
# the package comes from nixpkgs (its purl namespace). Values are passed on
# as evaluated; nixdock checks each before writing it.
{ file ? null
, attr ? ""
, args ? { }
, drv ? null
, depAttrs ? [
    "buildInputs" "nativeBuildInputs" "propagatedBuildInputs"
    "propagatedNativeBuildInputs" "depsBuildBuild" "depsBuildTarget"
    "depsHostHost" "depsTargetTarget" "checkInputs" "nativeCheckInputs"
    "contents" "copyToRoot" "deps" "exportReferencesGraph" "paths" "layers"
    "fromImage" "src" "srcs" "stdenv"
  ]
, allAttrs ? false
}:
let
  inherit (builtins) attrNames concatLists filter foldl' getAttr hasAttr isAttrs
    isFunction isList isString listToAttrs map split tryEval
    unsafeDiscardStringContext;

  root =
    if drv != null then drv
    else
      let
        f = import file;
        v = if isFunction f then f args else f;
        path = filter isString (split "\\." attr);
      in
      foldl' (acc: name: getAttr name acc) v (if attr == "" then [ ] else path);

  # Is v a derivation whose .drv path evaluates?
  isDrv = v:
    let r = tryEval (isAttrs v && (v.type or null) == "derivation" && isString v.drvPath);
    in r.success && r.value;

  flatten = v: if isList v then concatLists (map flatten v) else [ v ];

  depsOf = d:
    let
      names = if allAttrs then attrNames d else filter (n: hasAttr n d) depAttrs;
      value = n: let r = tryEval (getAttr n d); in if r.success then r.value else null;
    in
    filter isDrv (concatLists (map (n: flatten (value n)) names));

  key = d: unsafeDiscardStringContext d.drvPath;

  closure = builtins.genericClosure {
    startSet = [{ key = key root; d = root; }];
    operator = item: map (d: { key = key d; inherit d; }) (depsOf item.d);
  };

  licenseName = l:
    if isString l then l
    else if isAttrs l then (l.spdxId or l.shortName or l.fullName or "unknown")
    else "unknown";

  licenses = m:
    let l = m.license or null;
    in if l == null then [ ] else map licenseName (flatten l);

  orNull = v: let r = tryEval v; in if r.success then r.value else null;

  outputsOf = d:
    listToAttrs (map
      (o: { name = o; value = unsafeDiscardStringContext (getAttr o d).outPath; })
      (filter (o: hasAttr o d) (d.outputs or [ "out" ])));

  # The nixpkgs tree a file lies in: /nix/store/<hash>-<name>/... whose
  # root holds pkgs/top-level/all-packages.nix.
  inNixpkgs = pos:
    let
      file = builtins.head (split ":" pos);
      parts = filter isString (split "/" file);
      root = if builtins.length parts > 3 && builtins.elemAt parts 1 == "nix" && builtins.elemAt parts 2 == "store"
        then "/nix/store/" + builtins.elemAt parts 3 else null;
      r = tryEval (root != null && builtins.pathExists (root + "/pkgs/top-level/all-packages.nix"));
    in
    isString pos && r.success && r.value;

  strOrNull = v: if isString v then unsafeDiscardStringContext v else null;

  srcUrls = d:
    let
      r = tryEval (let s = d.src or null; in
        if s == null || !(isAttrs s) then [ ]
        else (s.urls or [ ]) ++ (if s ? url then [ s.url ] else [ ]));
    in
    if r.success && isList r.value then map unsafeDiscardStringContext (filter isString r.value) else [ ];

  maintainersOf = m:
    let r = tryEval (m.maintainers or [ ]);
    in if r.success && isList r.value
      then map (x: if isAttrs x then { name = strOrNull (x.name or null); email = strOrNull (x.email or null); github = strOrNull (x.github or null); } else { name = strOrNull x; }) r.value
      else [ ];

  entry = d:
    let
      m = let r = tryEval (d.meta or { }); in if r.success && isAttrs r.value then r.value else { };
      ids = let r = tryEval (m.identifiers or { }); in if r.success && isAttrs r.value then r.value else { };
      position = orNull (strOrNull (m.position or null));
    in
    {
      license = orNull (licenses m);
      description = orNull (m.description or null);
      homepage = orNull (m.homepage or null);
      pname = orNull (strOrNull (d.pname or null));
      version = orNull (strOrNull (d.version or null));
      outputs = orNull (outputsOf d);
      inherit position;
      nixpkgs = orNull (inNixpkgs position);
      cpe = orNull (ids.cpe or null);
      cpeParts = orNull (ids.cpeParts or null);
      possibleCPEs = orNull (ids.possibleCPEs or null);
      purls = orNull (ids.purls or (if ids ? purl then [ ids.purl ] else [ ]));
      srcUrls = orNull (srcUrls d);
      maintainers = orNull (maintainersOf m);
    };
in
listToAttrs (map (item: { name = item.key; value = entry item.d; }) closure)
