#include "jsonc.h"

#include <errno.h>

#define JC_KEY_FLAGS (JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY)

int
jc_add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add_ex(obj, key, val, JC_KEY_FLAGS) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

int
jc_add_null(struct json_object *obj, const char *key)
{
	return json_object_object_add_ex(obj, key, NULL, JC_KEY_FLAGS) < 0 ?
		-ENOMEM : 0;
}

int
jc_add_int(struct json_object *obj, const char *key, int v)
{
	return jc_add(obj, key, json_object_new_int64(v));
}

int
jc_add_bool(struct json_object *obj, const char *key, bool v)
{
	return jc_add(obj, key, json_object_new_boolean(v));
}

int
jc_append(struct json_object *arr, struct json_object *el)
{
	if (!el)
		return -ENOMEM;
	if (json_object_array_add(arr, el) < 0) {
		json_object_put(el);
		return -ENOMEM;
	}
	return 0;
}
