#include "JvsBlueprintLibrary.h"

#include "Dom/JsonObject.h"
#include "Misc/Paths.h"
#include "Serialization/JsonReader.h"
#include "Serialization/JsonSerializer.h"
#include "Serialization/JsonWriter.h"

#include <string>

#include "jvs.hpp"

namespace
{
std::string ToUtf8(const FString& S)
{
	const FTCHARToUTF8 Utf8(*S);
	return std::string(reinterpret_cast<const char*>(Utf8.Get()), Utf8.Length());
}

FString FromUtf8(const std::string& S)
{
	const FUTF8ToTCHAR Wide(S.data(), static_cast<int32>(S.size()));
	return FString(Wide.Length(), Wide.Get());
}

TSharedPtr<FJsonObject> Parse(const std::string& Document)
{
	TSharedPtr<FJsonObject> Object;
	FJsonSerializer::Deserialize(TJsonReaderFactory<>::Create(FromUtf8(Document)), Object);
	return Object.IsValid() ? Object : MakeShared<FJsonObject>();
}

std::string Write(const TSharedRef<FJsonObject>& Object)
{
	FString Text;
	FJsonSerializer::Serialize(Object, TJsonWriterFactory<TCHAR, TCondensedJsonPrintPolicy<TCHAR>>::Create(&Text));
	return ToUtf8(Text);
}

FString Describe(const jvs::error& E)
{
	FString Text = FromUtf8(E.code()) + TEXT(": ") + FromUtf8(E.message());
	if (!E.hint().empty())
	{
		Text += TEXT(" (") + FromUtf8(E.hint()) + TEXT(")");
	}
	return Text;
}

FJvsSnapshot ToSnapshot(const TSharedPtr<FJsonObject>& D)
{
	FJvsSnapshot S;
	if (!D.IsValid())
	{
		return S;
	}
	D->TryGetStringField(TEXT("snapshot_id"), S.Id);
	D->TryGetStringField(TEXT("note"), S.Note);
	D->TryGetStringArrayField(TEXT("tags"), S.Tags);
	D->TryGetStringField(TEXT("parent_id"), S.ParentId);
	D->TryGetStringField(TEXT("worktree_name"), S.Worktree);
	FString Created;
	if (D->TryGetStringField(TEXT("created_at"), Created))
	{
		FDateTime::ParseIso8601(*Created, S.CreatedAt);
	}
	return S;
}

/** The path of Folder relative to the root of the worktree Repo is bound to ("" for the root itself). */
FString RelativeToWorktree(const jvs::repo& Repo, const FString& Folder)
{
	FString Root;
	Parse(Repo.document())->TryGetStringField(TEXT("worktree_path"), Root);
	FString Path = FPaths::ConvertRelativePathToFull(Folder);
	FPaths::NormalizeDirectoryName(Path);
	FPaths::NormalizeDirectoryName(Root);
	if (Root.IsEmpty() || Path == Root || !FPaths::MakePathRelativeTo(Path, *(Root + TEXT("/"))))
	{
		return FString();
	}
	return Path;
}

jvs::repo OpenContaining(const FString& Folder)
{
	return jvs::repo::open(ToUtf8(FPaths::ConvertRelativePathToFull(Folder)));
}
} // namespace

bool UJvsBlueprintLibrary::Snapshot(const FString& Folder, const FString& Note, const TArray<FString>& Tags,
                                    FJvsSnapshot& OutSnapshot, FString& OutError)
{
	try
	{
		const jvs::repo Repo = OpenContaining(Folder);
		const TSharedRef<FJsonObject> Options = MakeShared<FJsonObject>();
		Options->SetStringField(TEXT("note"), Note);
		TArray<TSharedPtr<FJsonValue>> TagValues;
		for (const FString& Tag : Tags)
		{
			TagValues.Add(MakeShared<FJsonValueString>(Tag));
		}
		Options->SetArrayField(TEXT("tags"), TagValues);
		const FString Relative = RelativeToWorktree(Repo, Folder);
		if (!Relative.IsEmpty())
		{
			TArray<TSharedPtr<FJsonValue>> Paths;
			Paths.Add(MakeShared<FJsonValueString>(Relative));
			Options->SetArrayField(TEXT("paths"), Paths);
		}
		const TSharedPtr<FJsonObject> Result = Parse(Repo.snapshot(Write(Options)));
		OutSnapshot = ToSnapshot(Result->GetObjectField(TEXT("snapshot")));
		return true;
	}
	catch (const jvs::error& E)
	{
		OutError = Describe(E);
		return false;
	}
}

bool UJvsBlueprintLibrary::Restore(const FString& Folder, const FString& Reference, FString& OutError)
{
	try
	{
		const jvs::repo Repo = OpenContaining(Folder);
		Repo.restore("{\"ref\":" + jvs::quote(ToUtf8(Reference)) + "}");
		return true;
	}
	catch (const jvs::error& E)
	{
		OutError = Describe(E);
		return false;
	}
}

bool UJvsBlueprintLibrary::History(const FString& Folder, int32 Limit, TArray<FJvsSnapshot>& OutSnapshots,
                                   FString& OutError)
{
	try
	{
		const jvs::repo Repo = OpenContaining(Folder);
		const std::string Options = "{\"limit\":" + std::to_string(Limit > 0 ? Limit : 0) + "}";
		const TSharedPtr<FJsonObject> Result = Parse(Repo.history(Options));
		OutSnapshots.Reset();
		const TArray<TSharedPtr<FJsonValue>>* Snapshots = nullptr;
		if (Result->TryGetArrayField(TEXT("snapshots"), Snapshots))
		{
			for (const TSharedPtr<FJsonValue>& Value : *Snapshots)
			{
				OutSnapshots.Add(ToSnapshot(Value->AsObject()));
			}
		}
		return true;
	}
	catch (const jvs::error& E)
	{
		OutError = Describe(E);
		return false;
	}
}

FString UJvsBlueprintLibrary::ProjectContentFolder()
{
	return FPaths::ConvertRelativePathToFull(FPaths::ProjectContentDir());
}
