// Blueprint nodes for jvs: snapshot a folder of the project, restore it, list its history.
// Each node opens the jvs worktree containing the folder (the project must live inside one), runs
// one libjvs call through jvs.hpp, and reports failure as false plus an error text (code, message,
// hint) instead of an exception.
#pragma once

#include "CoreMinimal.h"
#include "Kismet/BlueprintFunctionLibrary.h"
#include "JvsBlueprintLibrary.generated.h"

USTRUCT(BlueprintType)
struct JVS_API FJvsSnapshot
{
	GENERATED_BODY()

	/** "<unix ms>-<8 hex>" */
	UPROPERTY(BlueprintReadOnly, Category = "jvs")
	FString Id;

	UPROPERTY(BlueprintReadOnly, Category = "jvs")
	FString Note;

	UPROPERTY(BlueprintReadOnly, Category = "jvs")
	TArray<FString> Tags;

	/** Publish time, UTC. */
	UPROPERTY(BlueprintReadOnly, Category = "jvs")
	FDateTime CreatedAt;

	/** Empty for a first snapshot. */
	UPROPERTY(BlueprintReadOnly, Category = "jvs")
	FString ParentId;

	/** The worktree it was taken from. */
	UPROPERTY(BlueprintReadOnly, Category = "jvs")
	FString Worktree;
};

UCLASS()
class JVS_API UJvsBlueprintLibrary : public UBlueprintFunctionLibrary
{
	GENERATED_BODY()

public:
	/** Snapshots Folder (the whole worktree if Folder is its root, else only Folder). */
	UFUNCTION(BlueprintCallable, Category = "jvs")
	static bool Snapshot(const FString& Folder, const FString& Note, const TArray<FString>& Tags,
	                     FJvsSnapshot& OutSnapshot, FString& OutError);

	/** Makes the worktree containing Folder what it was in Reference (an id, a tag, "HEAD", "HEAD~1",
	 *  a unique prefix): only files that differ are rewritten. A partial snapshot restores its paths only. */
	UFUNCTION(BlueprintCallable, Category = "jvs")
	static bool Restore(const FString& Folder, const FString& Reference, FString& OutError);

	/** The snapshots of the worktree containing Folder, newest first (Limit 0: all). */
	UFUNCTION(BlueprintCallable, Category = "jvs")
	static bool History(const FString& Folder, int32 Limit, TArray<FJvsSnapshot>& OutSnapshots, FString& OutError);

	/** The project's Content folder, absolute: the usual Folder to pass. */
	UFUNCTION(BlueprintPure, Category = "jvs")
	static FString ProjectContentFolder();
};
