// Reading libjvs documents with Newtonsoft.Json, using only API present both in Debian's 6.0.8 and in
// Unity's com.unity.nuget.newtonsoft-json (13.x).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Jvs
{
    internal static class Json
    {
        /// <summary>Parses a document. Date-looking strings stay strings (times are RFC 3339 with up
        /// to 9 fractional digits, which DateTime cannot hold; see <see cref="Time"/>).</summary>
        internal static JObject Parse(string text)
        {
            using (var reader = new JsonTextReader(new StringReader(text)))
            {
                reader.DateParseHandling = DateParseHandling.None;
                reader.FloatParseHandling = FloatParseHandling.Double;
                return JObject.Load(reader);
            }
        }

        internal static JObject TryParse(string text)
        {
            try
            {
                return Parse(text);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>Compact JSON text of options or a document.</summary>
        internal static string Write(JToken token)
        {
            return token.ToString(Formatting.None);
        }

        internal static string Str(JObject o, string key)
        {
            JToken t;
            if (o == null || !o.TryGetValue(key, out t) || t.Type != JTokenType.String) return null;
            return (string)t;
        }

        internal static long Long(JObject o, string key)
        {
            JToken t;
            if (o == null || !o.TryGetValue(key, out t) || t.Type != JTokenType.Integer) return 0;
            return (long)t;
        }

        internal static bool Bool(JObject o, string key)
        {
            JToken t;
            return o != null && o.TryGetValue(key, out t) && t.Type == JTokenType.Boolean && (bool)t;
        }

        internal static JObject Obj(JObject o, string key)
        {
            JToken t;
            return o != null && o.TryGetValue(key, out t) ? t as JObject : null;
        }

        internal static IEnumerable<JObject> Objects(JObject o, string key)
        {
            JToken t;
            if (o == null || !o.TryGetValue(key, out t) || t.Type != JTokenType.Array) yield break;
            foreach (var item in (JArray)t)
            {
                var obj = item as JObject;
                if (obj != null) yield return obj;
            }
        }

        internal static IReadOnlyList<string> Strings(JObject o, string key)
        {
            var list = new List<string>();
            JToken t;
            if (o != null && o.TryGetValue(key, out t) && t.Type == JTokenType.Array)
                foreach (var item in (JArray)t)
                    if (item.Type == JTokenType.String) list.Add((string)item);
            return list.AsReadOnly();
        }

        /// <summary>An RFC 3339 UTC time as libjvs writes it (Go's RFC3339Nano: 1-9 fractional
        /// digits), to the 100 ns a DateTimeOffset holds. Missing or malformed: MinValue.</summary>
        internal static DateTimeOffset Time(JObject o, string key)
        {
            var s = Str(o, key);
            if (string.IsNullOrEmpty(s)) return DateTimeOffset.MinValue;
            var dot = s.IndexOf('.');
            if (dot >= 0)
            {
                var end = dot + 1;
                while (end < s.Length && char.IsDigit(s[end])) end++;
                if (end - dot - 1 > 7) s = s.Substring(0, dot + 8) + s.Substring(end);
            }
            DateTimeOffset t;
            return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture,
                                           DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out t)
                ? t
                : DateTimeOffset.MinValue;
        }
    }
}
