namespace Cronos.Data;
public static class Database {
    const string Connection = "Server=db;Database=app;User Id=sa;Password=FakeCsharpAdo-9x;";
    const string FromEnvironment = "Server=db;User Id=sa;Password=" + Environment.GetEnvironmentVariable("DB_PASSWORD");
    const string Template = "Server={0};User Id={1};Password={2};";
}
