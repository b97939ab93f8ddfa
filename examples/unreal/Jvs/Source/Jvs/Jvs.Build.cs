// The Jvs module links the self-contained libjvs (only libc and libm stay dynamic) and stages it
// beside the module's binary, where the dynamic loader finds it by its SONAME, libjvs.so.1.
// examples/unreal/stage.sh puts jvs.h, jvs.hpp and the library under Source/ThirdParty/libjvs/.
using System.IO;
using UnrealBuildTool;

public class Jvs : ModuleRules
{
	public Jvs(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;
		// jvs.hpp is C++17 and reports failures as jvs::error exceptions.
		bEnableExceptions = true;

		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine" });
		PrivateDependencyModuleNames.AddRange(new string[] { "Json" });

		string LibJvs = Path.GetFullPath(Path.Combine(ModuleDirectory, "..", "ThirdParty", "libjvs"));
		PublicSystemIncludePaths.Add(Path.Combine(LibJvs, "include"));

		if (Target.Platform == UnrealTargetPlatform.Linux)
		{
			string Library = Path.Combine(LibJvs, "lib", "Linux", "x86_64", "libjvs.so.1");
			PublicAdditionalLibraries.Add(Library);
			RuntimeDependencies.Add("$(BinaryOutputDir)/libjvs.so.1", Library);
		}
		else
		{
			throw new BuildException("the jvs plugin ships libjvs for Linux x86_64 only (see examples/unreal/README.md)");
		}
	}
}
