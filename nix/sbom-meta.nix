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
#   description; homepage; outputs = { out = "<store path>"; ... };
#   cpe; purls = [ ... ]; } }
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

  entry = d:
    let
      m = let r = tryEval (d.meta or { }); in if r.success && isAttrs r.value then r.value else { };
      ids = m.identifiers or { };
    in
    {
      license = orNull (licenses m);
      description = orNull (m.description or null);
      homepage = orNull (m.homepage or null);
      outputs = orNull (outputsOf d);
      cpe = orNull (ids.cpe or null);
      purls = orNull (ids.purls or (if ids ? purl then [ ids.purl ] else [ ]));
    };
in
listToAttrs (map (item: { name = item.key; value = entry item.d; }) closure)
