package web

// Russian is the Russian of an English text ("" if none), for the tests.
func Russian(en string) string { return russian[en] }

// DynamicTexts are the texts chosen at run time, for the tests.
func DynamicTexts() []string { return dynamicTexts }
