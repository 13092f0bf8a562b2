namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>Restricted checks (upstream policy/check_*.go), with their versioned variants.</summary>
internal static class RestrictedChecks
{
    /// <summary>Every container must set allowPrivilegeEscalation=false.</summary>
    public static CheckResult AllowPrivilegeEscalation1_8(PodSecurityTarget pod)
    {
        var bad = pod.Containers()
            .Where(c => Json.Bool(Json.Obj(c, "securityContext"), "allowPrivilegeEscalation") != false)
            .Select(c => Json.Str(c, "name")).ToList();
        if (bad.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("allowPrivilegeEscalation != false",
            $"{Text.Pluralize("container", "containers", bad.Count)} {Text.JoinQuote(bad)} must set securityContext.allowPrivilegeEscalation=false");
    }

    /// <summary>From 1.25, Windows pods (spec.os.name=windows) are exempt: the field is invalid for them.</summary>
    public static CheckResult AllowPrivilegeEscalation1_25(PodSecurityTarget pod) =>
        pod.IsWindows ? CheckResult.Allow : AllowPrivilegeEscalation1_8(pod);

    /// <summary>Containers must drop ALL and may only add NET_BIND_SERVICE.</summary>
    public static CheckResult CapabilitiesRestricted1_22(PodSecurityTarget pod)
    {
        var missingDropAll = new List<string>();
        var addingForbidden = new List<string>();
        var forbiddenCaps = new List<string>();
        foreach (var c in pod.Containers())
        {
            var name = Json.Str(c, "name");
            var caps = Json.Obj(Json.Obj(c, "securityContext"), "capabilities");
            if (caps is null)
            {
                missingDropAll.Add(name);
                continue;
            }
            if (!Json.Strings(caps, "drop").Contains("ALL")) missingDropAll.Add(name);
            var added = false;
            foreach (var cap in Json.Strings(caps, "add"))
            {
                if (cap == "NET_BIND_SERVICE") continue;
                added = true;
                forbiddenCaps.Add(cap);
            }
            if (added) addingForbidden.Add(name);
        }
        var details = new List<string>();
        if (missingDropAll.Count > 0)
            details.Add($"{Text.Pluralize("container", "containers", missingDropAll.Count)} {Text.JoinQuote(missingDropAll)} " +
                        "must set securityContext.capabilities.drop=[\"ALL\"]");
        if (addingForbidden.Count > 0)
            details.Add($"{Text.Pluralize("container", "containers", addingForbidden.Count)} {Text.JoinQuote(addingForbidden)} " +
                        $"must not include {Text.JoinQuote(Text.SortedSet(forbiddenCaps))} in securityContext.capabilities.add");
        return details.Count > 0 ? CheckResult.Forbid("unrestricted capabilities", string.Join("; ", details)) : CheckResult.Allow;
    }

    public static CheckResult CapabilitiesRestricted1_25(PodSecurityTarget pod) =>
        pod.IsWindows ? CheckResult.Allow : CapabilitiesRestricted1_22(pod);

    private static readonly string[] AllowedVolumeSources =
        ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"];

    /// <summary>The restricted types, in the order upstream names the first one it finds.</summary>
    private static readonly string[] RestrictedVolumeSources =
    [
        "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
        "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
        "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos",
    ];

    /// <summary>Inline volumes are limited to the core, non-host types.</summary>
    public static CheckResult RestrictedVolumes(PodSecurityTarget pod)
    {
        var badVolumes = new List<string>();
        var badTypes = new List<string>();
        foreach (var v in pod.Volumes())
        {
            if (AllowedVolumeSources.Any(s => Json.Has(v, s))) continue;
            badVolumes.Add(Json.Str(v, "name"));
            badTypes.Add(RestrictedVolumeSources.FirstOrDefault(s => Json.Has(v, s)) ?? "unknown");
        }
        if (badVolumes.Count == 0) return CheckResult.Allow;
        var types = Text.SortedSet(badTypes);
        return CheckResult.Forbid("restricted volume types",
            $"{Text.Pluralize("volume", "volumes", badVolumes.Count)} {Text.JoinQuote(badVolumes)} " +
            $"{Text.Pluralize("uses", "use", badVolumes.Count)} " +
            $"{Text.Pluralize("restricted volume type", "restricted volume types", types.Count)} {Text.JoinQuote(types)}");
    }

    /// <summary>runAsNonRoot=true on the pod or on every container; no explicit false anywhere.</summary>
    public static CheckResult RunAsNonRoot(PodSecurityTarget pod)
    {
        if (pod.RelaxForUserNamespace) return CheckResult.Allow;

        var setters = new List<string>();
        var podNonRoot = false;
        switch (Json.Bool(pod.PodSecurityContext, "runAsNonRoot"))
        {
            case false: setters.Add("pod"); break;
            case true: podNonRoot = true; break;
        }

        var explicitlyBad = new List<string>();
        var implicitlyBad = new List<string>();
        foreach (var c in pod.Containers())
        {
            switch (Json.Bool(Json.Obj(c, "securityContext"), "runAsNonRoot"))
            {
                case false: explicitlyBad.Add(Json.Str(c, "name")); break;
                case null when !podNonRoot: implicitlyBad.Add(Json.Str(c, "name")); break;
            }
        }
        if (explicitlyBad.Count > 0)
            setters.Add($"{Text.Pluralize("container", "containers", explicitlyBad.Count)} {Text.JoinQuote(explicitlyBad)}");
        if (setters.Count > 0)
            return CheckResult.Forbid("runAsNonRoot != true",
                $"{string.Join(" and ", setters)} must not set securityContext.runAsNonRoot=false");
        if (implicitlyBad.Count > 0)
            return CheckResult.Forbid("runAsNonRoot != true",
                $"pod or {Text.Pluralize("container", "containers", implicitlyBad.Count)} {Text.JoinQuote(implicitlyBad)} " +
                "must set securityContext.runAsNonRoot=true");
        return CheckResult.Allow;
    }

    /// <summary>Neither pod nor container may set runAsUser=0.</summary>
    public static CheckResult RunAsUser1_23(PodSecurityTarget pod)
    {
        if (pod.RelaxForUserNamespace) return CheckResult.Allow;

        var setters = new List<string>();
        if (Json.Int(pod.PodSecurityContext, "runAsUser") == 0) setters.Add("pod");
        var bad = pod.Containers()
            .Where(c => Json.Int(Json.Obj(c, "securityContext"), "runAsUser") == 0)
            .Select(c => Json.Str(c, "name")).ToList();
        if (bad.Count > 0) setters.Add($"{Text.Pluralize("container", "containers", bad.Count)} {Text.JoinQuote(bad)}");
        if (setters.Count == 0) return CheckResult.Allow;
        return CheckResult.Forbid("runAsUser=0", $"{string.Join(" and ", setters)} must not set runAsUser=0");
    }

    /// <summary>seccompProfile.type must be RuntimeDefault or Localhost, set on the pod or every container.</summary>
    public static CheckResult SeccompProfileRestricted1_19(PodSecurityTarget pod)
    {
        var setters = new List<string>();
        var badValues = new List<string>();
        var podSet = false;
        if (Json.Obj(pod.PodSecurityContext, "seccompProfile") is { } podProfile)
        {
            var t = Json.Str(podProfile, "type");
            if (BaselineChecks2.ValidSeccompType(t)) podSet = true;
            else
            {
                setters.Add("pod");
                badValues.Add(t);
            }
        }

        var explicitlyBad = new List<string>();
        var implicitlyBad = new List<string>();
        foreach (var c in pod.Containers())
        {
            if (Json.Obj(Json.Obj(c, "securityContext"), "seccompProfile") is { } profile)
            {
                var t = Json.Str(profile, "type");
                if (BaselineChecks2.ValidSeccompType(t)) continue;
                explicitlyBad.Add(Json.Str(c, "name"));
                badValues.Add(t);
            }
            else if (!podSet)
            {
                implicitlyBad.Add(Json.Str(c, "name"));
            }
        }
        if (explicitlyBad.Count > 0)
            setters.Add($"{Text.Pluralize("container", "containers", explicitlyBad.Count)} {Text.JoinQuote(explicitlyBad)}");
        if (setters.Count > 0)
            return CheckResult.Forbid("seccompProfile",
                $"{string.Join(" and ", setters)} must not set securityContext.seccompProfile.type to {Text.JoinQuote(Text.SortedSet(badValues))}");
        if (implicitlyBad.Count > 0)
            return CheckResult.Forbid("seccompProfile",
                $"pod or {Text.Pluralize("container", "containers", implicitlyBad.Count)} {Text.JoinQuote(implicitlyBad)} " +
                "must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"");
        return CheckResult.Allow;
    }

    public static CheckResult SeccompProfileRestricted1_25(PodSecurityTarget pod) =>
        pod.IsWindows ? CheckResult.Allow : SeccompProfileRestricted1_19(pod);
}
